from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "yiwang.support.trust"
    label = "trust"
    verbose_name = "密钥、证书与信任列表 Trust"
