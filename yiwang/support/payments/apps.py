from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "yiwang.support.payments"
    label = "payments"
    verbose_name = "统一支付 Payments"

    def ready(self) -> None:
        from yiwang.support.payments import channels, tasks  # noqa: F401 - registers plugins
