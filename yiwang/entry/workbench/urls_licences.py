"""Workbench pages of the licences area."""

urlpatterns: list = []
