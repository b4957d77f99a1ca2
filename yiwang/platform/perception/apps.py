from django.apps import AppConfig


class PerceptionConfig(AppConfig):
    name = "yiwang.platform.perception"
    label = "perception"
    verbose_name = "感知平台 Perception"
