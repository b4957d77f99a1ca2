"""URLs of yiwang/support/trust outside the language prefix (filled in by its builder)."""

app_name = "trust"
urlpatterns: list = []
