from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "yiwang.enablement.ledger"
    label = "ledger"
    verbose_name = "防篡改账本 Ledger"
