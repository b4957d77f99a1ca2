from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "yiwang.support.identity"
    label = "identity"
    verbose_name = "统一身份 Identity"

    def ready(self) -> None:
        from yiwang.support.identity import rights

        rights.connect()
