"""URL patterns of the enterprise screens (included by urls.py)."""

urlpatterns: list = []
