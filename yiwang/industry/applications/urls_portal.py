"""Portal pages of the applications app (in the language prefix): /applications/…"""

from django.urls import path

from yiwang.industry.applications import views

app_name = "applications_portal"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("apply/<str:matter_code>/", views.apply, name="apply"),
    path("bundles/<str:bundle_code>/", views.apply_bundle, name="apply_bundle"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/materials/<int:material_pk>/", views.material, name="material"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/fee/renew/", views.renew_fee, name="renew_fee"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
