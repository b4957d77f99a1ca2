"""Portal pages of the assistant (in the language prefix): /assistant/…"""

from django.urls import path

from yiwang.support.assistant import views

app_name = "assistant_portal"
urlpatterns = [
    path("", views.page, name="page"),
    path("messages", views.messages, name="messages"),
    path("human", views.human, name="human"),
]
