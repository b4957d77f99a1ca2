"""Workbench pages of the services area (服务事项)."""

from django.urls import path

from yiwang.entry.workbench import views_services as views

urlpatterns = [
    path("services/", views.services_list, name="services"),
    path("services/new/", views.services_create, name="services_create"),
    path("services/import/", views.services_import, name="services_import"),
    path("services/versions/<int:pk>/", views.services_version, name="services_version"),
    path("services/versions/<int:pk>/bpmn/", views.services_version_bpmn,
         name="services_version_bpmn"),
    path("services/versions/<int:pk>/publish/", views.services_version_publish,
         name="services_version_publish"),
    path("services/bundles/<str:code>/publish/", views.services_bundle_publish,
         name="services_bundle_publish"),
    path("services/m/<str:code>/", views.services_matter, name="services_matter"),
    path("services/m/<str:code>/guide/", views.services_guide, name="services_guide"),
    path("services/m/<str:code>/versions/new/", views.services_new_version,
         name="services_new_version"),
    path("services/m/<str:code>/publish/", views.services_publish_matter,
         name="services_publish_matter"),
    path("services/m/<str:code>/export.json", views.services_export, name="services_export"),
]
