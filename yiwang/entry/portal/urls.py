from django.urls import path

from yiwang.entry.portal import views, views_reviews

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:code>/", views.region, name="region"),
    path("grids/<str:code>/", views.grid, name="grid"),
    path("departments/", views.departments, name="departments"),
    path("departments/<slug:code>/", views.department, name="department"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:pk>/", views.policy, name="policy"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("reviews/", views_reviews.reviews, name="reviews"),
    path("unavailable/<slug:slug>/", views.unavailable, name="unavailable"),
    path("about/", views.about, name="about"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
]
