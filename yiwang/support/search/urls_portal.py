"""Portal pages of unified search (in the language prefix): /search/…"""

from django.urls import path

from yiwang.support.search import views

app_name = "search_portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("suggest", views.suggest, name="suggest"),
]
