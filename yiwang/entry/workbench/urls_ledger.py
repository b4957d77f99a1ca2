"""Workbench pages of the ledger area."""

urlpatterns: list = []
