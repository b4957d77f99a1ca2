from django.apps import AppConfig


class GisConfig(AppConfig):
    name = "yiwang.support.gis"
    label = "gis"
    verbose_name = "地理信息平台 GIS"
