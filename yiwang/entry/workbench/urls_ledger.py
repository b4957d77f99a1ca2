"""Workbench pages of the ledger area (防篡改账本)."""

from django.urls import path

from yiwang.entry.workbench import views_ledger

urlpatterns = [
    path("ledger/", views_ledger.overview, name="ledger"),
    path("ledger/publish/", views_ledger.publish, name="ledger_publish"),
    path("ledger/witness/", views_ledger.witness, name="ledger_witness"),
    path("ledger/<slug:log>/", views_ledger.log_detail, name="ledger_log"),
]
