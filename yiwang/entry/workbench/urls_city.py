"""Workbench pages of city management (一网统管): cases."""

from django.urls import path

from yiwang.entry.workbench import views_city, views_cockpit

urlpatterns: list = [
    path("cockpit/", views_cockpit.cockpit, name="cockpit"),
    path("city/cases/", views_city.cases, name="city_cases"),
    path("city/report/", views_city.report, name="city_report"),
    path("city/cases/<str:number>/", views_city.case, name="city_case"),
    path("city/cases/<str:number>/photos/<str:token>", views_city.photo, name="city_photo"),
    path("city/cases/<str:number>/<slug:action>/", views_city.act, name="city_act"),
]
