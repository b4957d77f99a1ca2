from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "yiwang.entry.portal"
    label = "portal"
    verbose_name = "门户 Portal"

    def ready(self) -> None:
        from yiwang.entry.portal import searching

        searching.connect()
