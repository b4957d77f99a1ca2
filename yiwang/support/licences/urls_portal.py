"""Portal pages of the licences app (in the language prefix)."""

app_name = "licences_portal"
urlpatterns: list = []
