"""Workbench pages of the seals area (电子印章)."""

from django.urls import path

from yiwang.entry.workbench import views_seals

urlpatterns = [
    path("seals/", views_seals.seal_list, name="seals"),
    path("seals/use/", views_seals.seal_use, name="seal_use"),
    path("seals/uses/", views_seals.seal_uses, name="seal_uses"),
    path("seals/verify/", views_seals.seal_verify, name="seal_verify"),
    path("seals/reauth/", views_seals.seal_reauth, name="seal_reauth"),
    path("seals/new/<slug:department>/", views_seals.seal_new, name="seal_new"),
    path("seals/<str:code>/", views_seals.seal_detail, name="seal"),
    path("seals/<str:code>/stamp.png", views_seals.seal_stamp, name="seal_stamp"),
    path("seals/<str:code>/custodians/", views_seals.seal_custodians, name="seal_custodians"),
    path("seals/<str:code>/standing/", views_seals.seal_standing, name="seal_standing"),
    path("seals/<str:code>/authorisations/<int:pk>/withdraw/", views_seals.seal_withdraw,
         name="seal_withdraw"),
    path("seals/<str:code>/<slug:action>/", views_seals.seal_action, name="seal_action"),
]
