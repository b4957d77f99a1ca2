"""Portal pages of the services app (in the language prefix)."""

from django.urls import path  # noqa: F401

app_name = "services_portal"
urlpatterns: list = []
