from django.apps import AppConfig


class MaskingConfig(AppConfig):
    name = "yiwang.core.masking"
    label = "masking"
    verbose_name = "脱敏 Masking"
