"""Workbench pages of the licences area (电子证照)."""

from django.urls import path

from yiwang.entry.workbench import views_licences

urlpatterns: list = [
    path("licences/", views_licences.licence_list, name="licences"),
    path("licences/issue/", views_licences.issue, name="licence_issue"),
    path("licences/<int:pk>/", views_licences.licence_detail, name="licence"),
    path("licences/<int:pk>/<slug:action>/", views_licences.licence_action,
         name="licence_action"),
]
