from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "yiwang.industry.applications"
    label = "applications"
    verbose_name = "办件 Applications"

    def ready(self) -> None:
        from yiwang.industry.applications import lifecycle
        from yiwang.support.payments import service as payments

        payments.on_paid("applications", lifecycle.fee_paid)
