"""Recompute every passage of the assistant and its vectors (after changing the encoder)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yiwang.support.assistant import service as assistant


class Command(BaseCommand):
    help = "Rebuild the assistant's passages and their vectors from every module."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{assistant.rebuild()} passages")
