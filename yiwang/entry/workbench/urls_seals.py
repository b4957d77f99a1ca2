"""Workbench pages of the seals area."""

urlpatterns: list = []
