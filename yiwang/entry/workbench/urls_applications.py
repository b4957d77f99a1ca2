"""Workbench pages of the applications area (办件): the inbox and an application's detail."""

from django.urls import path

from yiwang.entry.workbench import views_applications

urlpatterns: list = [
    path("inbox/", views_applications.inbox, name="applications_inbox"),
    path("applications/<int:pk>/", views_applications.detail, name="applications_detail"),
    path("applications/<int:pk>/materials/<int:material_pk>/", views_applications.material,
         name="applications_material"),
    path("applications/<int:pk>/fee/renew/", views_applications.renew_fee,
         name="applications_renew_fee"),
    path("applications/<int:pk>/tasks/<int:task_pk>/<slug:action>/", views_applications.act,
         name="applications_act"),
]
