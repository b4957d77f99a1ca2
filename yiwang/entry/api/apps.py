from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "yiwang.entry.api"
    label = "api"
    verbose_name = "接口 API"
