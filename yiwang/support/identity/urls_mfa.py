"""URL patterns of the mfa screens (included by urls.py)."""

urlpatterns: list = []
