from django.urls import path

from yiwang.entry.api.public import api

urlpatterns = [path("", api.urls)]
