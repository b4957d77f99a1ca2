"""``yiwang rotate-key-master``: re-wrap every stored signing key under the current master key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yiwang.core.crypto import service


class Command(BaseCommand):
    help = (
        "Re-wrap every private signing key of the software vault under the first key of "
        "YIWANG_KEY_MASTER (and the cipher YIWANG_DATA_CIPHER selects). Prepend a new master "
        "key, run this, then remove the old one. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = service.rewrap_signing_keys()
        self.stdout.write(self.style.SUCCESS(f"{count} signing keys re-wrapped."))
