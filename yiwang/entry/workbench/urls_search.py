"""Workbench pages of unified search operations (统一搜索)."""

from django.urls import path

from yiwang.entry.workbench import views_search

urlpatterns: list = [
    path("search-admin/", views_search.admin, name="search_admin"),
    path("search-admin/delete/", views_search.delete, name="search_synonym_delete"),
    path("search-admin/reindex/", views_search.reindex, name="search_reindex"),
]
