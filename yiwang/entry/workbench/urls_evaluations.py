"""Workbench pages of 好差评: the departments' evaluations and the follow-up of 差评."""

from django.urls import path

from yiwang.entry.workbench import views_evaluations

urlpatterns: list = [
    path("evaluations/", views_evaluations.evaluations, name="evaluations"),
    path("evaluations/<int:pk>/", views_evaluations.evaluation, name="evaluation"),
    path("evaluations/<int:pk>/rectify/", views_evaluations.rectify,
         name="evaluation_rectify"),
]
