"""Workbench pages of 政务公开 (policy documents and notices)."""

from django.urls import path

from yiwang.entry.workbench import views_articles

urlpatterns: list = [
    path("articles/", views_articles.articles, name="articles"),
    path("articles/new/", views_articles.article_new, name="article_new"),
    path("articles/<int:pk>/", views_articles.article, name="article"),
    path("articles/<int:pk>/<slug:action>/", views_articles.article_act, name="article_act"),
]
