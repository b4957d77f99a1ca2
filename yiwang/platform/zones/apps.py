from django.apps import AppConfig


class ZonesConfig(AppConfig):
    name = "yiwang.platform.zones"
    label = "zones"
    verbose_name = "网络分区 Zones"
