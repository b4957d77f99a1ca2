"""Workbench pages of the assistant's human agents (智能客服 人工坐席)."""

from django.urls import path

from yiwang.entry.workbench import views_assistant

urlpatterns: list = [
    path("assistant/", views_assistant.queue, name="assistant_queue"),
    path("assistant/<int:pk>/", views_assistant.conversation, name="assistant_conversation"),
    path("assistant/<int:pk>/<slug:action>/", views_assistant.act, name="assistant_act"),
]
