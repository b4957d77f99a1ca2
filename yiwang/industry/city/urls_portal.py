"""Portal pages of city management (in the language prefix): /reports/…"""

from django.urls import path

from yiwang.industry.city import views

app_name = "city_portal"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/photos/<str:token>", views.photo, name="photo"),
    path("<str:number>/evaluate/", views.evaluate, name="evaluate"),
]
