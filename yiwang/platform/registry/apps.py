from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "yiwang.platform.registry"
    label = "registry"
    verbose_name = "基础数据 Base registries"
