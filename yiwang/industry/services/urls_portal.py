"""Portal pages of the services app (in the language prefix): /services/…"""

from django.urls import path

from yiwang.industry.services import views

app_name = "services_portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("bundles/<str:code>/", views.bundle, name="bundle"),
    path("<str:code>/", views.matter, name="matter"),
]
