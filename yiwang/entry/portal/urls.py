from django.urls import path

from yiwang.entry.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:code>/", views.region, name="region"),
    path("grids/<str:code>/", views.grid, name="grid"),
    path("departments/", views.departments, name="departments"),
    path("departments/<slug:code>/", views.department, name="department"),
    path("unavailable/<slug:slug>/", views.unavailable, name="unavailable"),
    path("about/", views.about, name="about"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
]
