"""Workbench pages of unified payment (统一支付)."""

from django.urls import path

from yiwang.entry.workbench import views_payments

urlpatterns: list = [
    path("payments/", views_payments.orders, name="payments_orders"),
    path("payments/reconciliations/", views_payments.reconciliations,
         name="payments_reconciliations"),
    path("payments/reconciliations/<int:pk>/", views_payments.reconciliation,
         name="payments_reconciliation"),
    path("payments/<str:order_no>/", views_payments.order, name="payments_order"),
    path("payments/<str:order_no>/<slug:action>/", views_payments.order_act,
         name="payments_order_act"),
]
