from django.apps import AppConfig


class IdentifiersConfig(AppConfig):
    name = "yiwang.core.identifiers"
    label = "identifiers"
    verbose_name = "标识 Identifiers"
