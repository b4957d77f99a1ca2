"""Portal pages of unified payment (in the language prefix): /pay/…"""

from django.urls import path

from yiwang.support.payments import views

app_name = "payments_portal"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("bank/local/<str:txn_id>/", views.bank, name="bank"),
    path("bank/local/<str:txn_id>/confirm/", views.bank_confirm, name="bank_confirm"),
    path("<str:notice_no>/", views.order, name="order"),
    path("<str:notice_no>/pay/", views.start, name="start"),
    path("<str:notice_no>/receipt.pdf", views.receipt, name="receipt"),
]
