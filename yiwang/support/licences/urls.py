"""URLs of yiwang/support/licences outside the language prefix (filled in by its builder)."""

app_name = "licences"
urlpatterns: list = []
