"""``yiwang rotate-data-keys``: re-encrypt personal data with the current data key and cipher."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from yiwang.core.crypto import service


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column value not made with the first key of "
        "YIWANG_DATA_KEYS and the cipher YIWANG_DATA_CIPHER. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500,
                            help="rows per transaction (default 500)")
        parser.add_argument("--dry-run", action="store_true",
                            help="only count the values that need re-encrypting")
        parser.add_argument("--only", nargs="+", metavar="LABEL",
                            help="limit to these apps (`registry`) or models (`registry.person`)")

    def handle(self, *args: Any, batch_size: int, dry_run: bool, verbosity: int,
               only: list[str] | None = None, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        key_id, cipher = service.current_key_id(), service.current_cipher()
        self.stdout.write(f"Current key {key_id}, cipher {cipher}.")
        total = 0 if dry_run else service.count_pending_rotation(only)
        with tqdm(total=total, unit="value", file=self.stderr, disable=dry_run or verbosity < 1
                  or total == 0, desc="re-encrypting") as bar:
            reports = service.rotate_data_keys(batch_size=batch_size, dry_run=dry_run,
                                               on_batch=bar.update, only=only)
        for r in reports:
            if dry_run:
                self.stdout.write(f"{r.label}: {r.pending} to re-encrypt")
            else:
                self.stdout.write(f"{r.label}: {r.rotated} re-encrypted, {r.failed} failed")
        pending = sum(r.pending for r in reports)
        rotated = sum(r.rotated for r in reports)
        failed = sum(r.failed for r in reports)
        if dry_run:
            self.stdout.write(f"Dry run: {pending} values to re-encrypt in {len(reports)} columns.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"{rotated} values re-encrypted, {failed} failed, in {len(reports)} columns."))
        if failed:
            raise CommandError(
                f"{failed} values could not be decrypted with any key of YIWANG_DATA_KEYS; "
                "they were left unchanged. Do not remove old keys until this is resolved."
            )
