"""Portal pages of the applications app (in the language prefix)."""

from django.urls import path  # noqa: F401

app_name = "applications_portal"
urlpatterns: list = []
