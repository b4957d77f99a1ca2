from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "yiwang.core.crypto"
    label = "crypto"
    verbose_name = "密码 Crypto"
