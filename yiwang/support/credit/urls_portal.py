"""Portal pages of the social credit platform (in the language prefix): /credit/…"""

from django.urls import path

from yiwang.support.credit import views

app_name = "credit_portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("records/<int:pk>/", views.record, name="record"),
    path("enterprises/<str:code>/", views.enterprise, name="enterprise"),
    path("mine/", views.mine, name="mine"),
    path("mine/<slug:action>/<slug:kind>/<int:pk>/", views.dispute, name="dispute"),
]
