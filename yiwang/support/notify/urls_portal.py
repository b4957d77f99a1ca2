"""Portal pages of the notify app (in the language prefix): /notifications/…"""

from django.urls import path

from yiwang.support.notify import views

app_name = "notify_portal"
urlpatterns = [
    path("", views.inbox, name="list"),
    path("read/", views.mark_read, name="mark_read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
]
