"""``yiwang export-openapi``: write the OpenAPI documents the tests compare against."""

from typing import Any

from django.core.management.base import BaseCommand

from yiwang.entry.api.contract import APIS, path_of, render


class Command(BaseCommand):
    help = "Write docs/api/openapi-<zone>.json (commit them: CI fails when they drift)."

    def handle(self, *args: Any, **options: Any) -> None:
        for zone in APIS:
            path = path_of(zone)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(zone), encoding="utf-8")
            self.stdout.write(f"wrote {path}")
