from django.urls import path

from yiwang.core.health import views

urlpatterns = [
    path("metrics", views.metrics_view, name="metrics"),
]
