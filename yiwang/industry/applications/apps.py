from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "yiwang.industry.applications"
    label = "applications"
    verbose_name = "办件 Applications"
