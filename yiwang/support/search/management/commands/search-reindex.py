"""Rebuild the search index from every module's documents (or some kinds), with progress."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from yiwang.support.search import service as search


class Command(BaseCommand):
    help = "Rebuild unified search's documents from the modules (all kinds, or those named)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kinds", nargs="*", help="service, faq, policy, notice, credit")

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        bars: dict[str, Any] = {}

        def progress(kind: str, done: int, total: int) -> None:
            bar = bars.get(kind)
            if bar is None:
                bar = bars[kind] = tqdm(total=total, desc=kind, unit="doc", file=sys.stderr)
            bar.update(done - bar.n)

        counts = search.reindex(options["kinds"] or None, progress=progress)
        for bar in bars.values():
            bar.close()
        for kind, count in counts.items():
            self.stdout.write(f"{kind}: {count}")
