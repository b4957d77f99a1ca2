from django.urls import path

from yiwang.entry.api.internal import api

urlpatterns = [path("", api.urls)]
