"""``yiwang config-reference``: print the configuration reference (docs/configuration.md)."""

from typing import Any

from django.core.management.base import BaseCommand

from yiwang.conf.env import reference_markdown


class Command(BaseCommand):
    help = "Print every environment variable yiwang reads, as Markdown."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(reference_markdown())
