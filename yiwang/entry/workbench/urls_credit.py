"""Workbench pages of the social credit platform (社会信用)."""

from django.urls import path

from yiwang.entry.workbench import views_credit

urlpatterns: list = [
    path("credit/", views_credit.home, name="credit"),
    path("credit/records/", views_credit.records, name="credit_records"),
    path("credit/records/new/", views_credit.record_new, name="credit_record_new"),
    path("credit/records/<int:pk>/", views_credit.record, name="credit_record"),
    path("credit/records/<int:pk>/revoke/", views_credit.record_revoke,
         name="credit_record_revoke"),
    path("credit/lists/", views_credit.entries, name="credit_entries"),
    path("credit/lists/new/", views_credit.entry_new, name="credit_entry_new"),
    path("credit/lists/<int:pk>/", views_credit.entry, name="credit_entry"),
    path("credit/lists/<int:pk>/remove/", views_credit.entry_remove,
         name="credit_entry_remove"),
    path("credit/disputes/", views_credit.disputes, name="credit_disputes"),
    path("credit/disputes/<str:number>/", views_credit.dispute, name="credit_dispute"),
    path("credit/disputes/<str:number>/decide/", views_credit.dispute_decide,
         name="credit_dispute_decide"),
    path("credit/risk/", views_credit.risk, name="credit_risk"),
    path("credit/risk/classify/", views_credit.risk_classify, name="credit_risk_classify"),
    path("credit/check/", views_credit.check, name="credit_check"),
]
