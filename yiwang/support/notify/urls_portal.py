"""Portal pages of the notify app (in the language prefix)."""

from django.urls import path  # noqa: F401

app_name = "notify_portal"
urlpatterns: list = []
