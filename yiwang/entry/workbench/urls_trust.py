"""Workbench pages of the trust area: 密钥与证书 and 信任列表."""

from django.urls import path

from yiwang.entry.workbench import views_trust

urlpatterns = [
    path("trust/keys/", views_trust.keys_index, name="trust_keys"),
    path("trust/keys/<str:owner>/", views_trust.keys_of, name="trust_keys_of"),
    path("trust/keys/<str:owner>/new/", views_trust.key_create, name="trust_key_create"),
    path("trust/keys/<str:owner>/<str:key_id>/rotate/", views_trust.key_rotate,
         name="trust_key_rotate"),
    path("trust/keys/<str:owner>/<str:key_id>/certify/", views_trust.key_certify,
         name="trust_key_certify"),
    path("trust/keys/<str:owner>/<str:key_id>/revoke/", views_trust.key_revoke,
         name="trust_key_revoke"),
    path("trust/keys/<str:owner>/certificates/<str:serial>/revoke/",
         views_trust.certificate_revoke, name="trust_certificate_revoke"),
    path("trust/lists/", views_trust.lists, name="trust_lists"),
    path("trust/lists/publish/", views_trust.publish, name="trust_publish"),
    path("trust/lists/<str:region>/refresh/", views_trust.refresh, name="trust_refresh"),
]
