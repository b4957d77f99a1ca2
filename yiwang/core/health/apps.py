from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "yiwang.core.health"
    label = "health"
    verbose_name = "运行监测 Health"
