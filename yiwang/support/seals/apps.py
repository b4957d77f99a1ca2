from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "yiwang.support.seals"
    label = "seals"
    verbose_name = "电子印章 Seals"
