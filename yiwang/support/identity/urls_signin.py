"""URL patterns of the signin screens (included by urls.py)."""

urlpatterns: list = []
