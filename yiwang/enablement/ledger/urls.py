"""URLs of yiwang/enablement/ledger outside the language prefix (filled in by its builder)."""

app_name = "ledger"
urlpatterns: list = []
