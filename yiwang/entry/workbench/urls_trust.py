"""Workbench pages of the trust area."""

urlpatterns: list = []
