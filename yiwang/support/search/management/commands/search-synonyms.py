"""Load the default synonyms (yiwang/support/search/synonyms.tsv) or a file of your own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yiwang.support.search import service as search


class Command(BaseCommand):
    help = "Load search synonyms from a tab-separated file (term, tab, targets)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", help="default: the bundled synonyms.tsv")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]) if options["file"] else None
        try:
            count = search.load_synonyms(path)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{count} synonyms loaded")
