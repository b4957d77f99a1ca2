from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "yiwang.core.audit"
    label = "audit"
    verbose_name = "审计 Audit"

    def ready(self) -> None:
        from yiwang.core.audit import signals

        signals.connect()
