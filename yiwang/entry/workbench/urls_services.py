"""Workbench pages of the services area (服务事项): the catalogue and matters
(``views_services``), service versions (``views_services_versions``) and bundles
(一件事一次办, ``views_services_bundles``)."""

from django.urls import path

from yiwang.entry.workbench import views_services as views
from yiwang.entry.workbench import views_services_bundles as bundles
from yiwang.entry.workbench import views_services_versions as versions

urlpatterns = [
    path("services/", views.services_list, name="services"),
    path("services/new/", views.services_create, name="services_create"),
    path("services/import/", views.services_import, name="services_import"),
    path("services/versions/<int:pk>/", versions.services_version, name="services_version"),
    path("services/versions/<int:pk>/bpmn/", versions.services_version_bpmn,
         name="services_version_bpmn"),
    path("services/versions/<int:pk>/bpmn/file/", versions.services_version_bpmn_file,
         name="services_version_bpmn_file"),
    path("services/versions/<int:pk>/publish/", versions.services_version_publish,
         name="services_version_publish"),
    path("services/bundles/", bundles.services_bundles, name="services_bundles"),
    path("services/bundles/new/", bundles.services_bundle_create,
         name="services_bundle_create"),
    path("services/bundles/<str:code>/", bundles.services_bundle_edit,
         name="services_bundle_edit"),
    path("services/bundles/<str:code>/publish/", bundles.services_bundle_publish,
         name="services_bundle_publish"),
    path("services/m/<str:code>/", views.services_matter, name="services_matter"),
    path("services/m/<str:code>/guide/", views.services_guide, name="services_guide"),
    path("services/m/<str:code>/versions/new/", views.services_new_version,
         name="services_new_version"),
    path("services/m/<str:code>/publish/", views.services_publish_matter,
         name="services_publish_matter"),
    path("services/m/<str:code>/export.json", views.services_export, name="services_export"),
]
