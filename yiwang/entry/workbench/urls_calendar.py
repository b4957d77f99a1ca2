"""Workbench pages of the working calendar (工作日历); the lead splices ``urlpatterns`` into
the ``workbench`` namespace (``yiwang/entry/workbench/urls.py``)."""

from django.urls import path

from yiwang.entry.workbench import views_calendar as views

urlpatterns = [
    path("calendar/", views.calendar_year, name="calendar"),
    path("calendar/import/", views.calendar_import, name="calendar_import"),
    path("calendar/days/<str:day>/", views.calendar_day, name="calendar_day"),
]
