"""URLs of the trust app outside the language prefix, at /trust/ on both listeners (public
material only: lists, certificates, CRLs, public keys and the TSA)."""

from django.urls import path

from yiwang.support.trust import views

app_name = "trust"
urlpatterns = [
    path("list.json", views.trust_list, name="list"),
    path("bundle.json", views.bundle, name="bundle"),
    path("fingerprint.json", views.fingerprint, name="fingerprint"),
    path("root.pem", views.root_certificate, name="root"),
    path("crl/<slug:ca>.crl", views.crl, name="crl"),
    path("certificates/<str:serial>.pem", views.certificate, name="certificate"),
    path("keys/<str:key_id>", views.key_document, name="key"),
    path("tsa", views.timestamp, name="tsa"),
]
