"""Workbench pages of city management (一网统管): cases, the cockpit, and the perception
platform's devices, alarms, cameras and video detections."""

from django.urls import path

from yiwang.entry.workbench import views_city, views_cockpit, views_iot

urlpatterns: list = [
    path("cockpit/", views_cockpit.cockpit, name="cockpit"),
    path("city/cases/", views_city.cases, name="city_cases"),
    path("city/report/", views_city.report, name="city_report"),
    path("city/cases/<str:number>/", views_city.case, name="city_case"),
    path("city/cases/<str:number>/photos/<str:token>", views_city.photo, name="city_photo"),
    path("city/cases/<str:number>/<slug:action>/", views_city.act, name="city_act"),
    path("iot/devices/", views_iot.devices, name="iot_devices"),
    path("iot/devices/<str:code>/", views_iot.device, name="iot_device"),
    path("iot/alarms/", views_iot.alarms, name="iot_alarms"),
    path("iot/alarms/<int:alarm_id>/<slug:action>/", views_iot.alarm_act, name="iot_alarm_act"),
    path("iot/cameras/", views_iot.cameras, name="iot_cameras"),
    path("iot/cameras/<str:code>/snapshot.jpg", views_iot.camera_snapshot,
         name="iot_camera_snapshot"),
    path("iot/detections/", views_iot.detections, name="iot_detections"),
    path("iot/detections/<int:detection_id>/snapshot.jpg", views_iot.detection_snapshot,
         name="iot_detection_snapshot"),
    path("iot/detections/<int:detection_id>/<slug:action>/", views_iot.detection_review,
         name="iot_detection_review"),
]
