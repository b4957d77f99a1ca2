"""``yiwang demo``: load the demo city 示例市, with progress, and print where to look."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from yiwang.demo import accounts as demo_accounts
from yiwang.demo import loader
from yiwang.platform.zones.service import Zone, base_url


class Command(BaseCommand):
    help = "Load (or complete) the demo city 示例市 and print its URLs and demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only report whether the demo city is complete (exit 1 if not).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            self._check()
            return
        if settings.YIWANG_ENV == "production":
            raise CommandError(
                "refusing to load synthetic demo data into a production instance "
                "(YIWANG_ENV=production)"
            )
        started = time.perf_counter()
        bars: list[tqdm[Any]] = []

        def progress(label: str, total: int) -> Callable[[int], None]:
            bar = tqdm(
                total=total,
                desc=f"{label:<22}",
                unit="",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
                disable=None,
            )
            bars.append(bar)
            return bar.update

        try:
            accounts = loader.load_all(progress)
            from yiwang.demo.simulate import simulate_demo_week

            simulate_demo_week(progress)  # once: the city's last week, for the cockpit
        finally:
            for bar in bars:
                bar.close()
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"示例市 demo city loaded in {elapsed:.1f} s"))
        for name, count in loader.census().items():
            self.stdout.write(f"  {name}: {count}")
        self.stdout.write("")
        self.stdout.write(f"门户 portal (public zone):       {base_url(Zone.PUBLIC)}")
        self.stdout.write(f"工作台 workbench (internal zone): {base_url(Zone.INTERNAL)}")
        self.stdout.write("")
        self.stdout.write(
            "Demo accounts 演示账号 (all share one password; officials sign in to the workbench,"
            " citizens to the portal):"
        )
        self.stdout.write(f"  密码 password: {loader.demo_password()}")
        for account in accounts:
            self.stdout.write(
                f"  账号 account: {account.username:<22} {account.name}  {account.role}"
            )
        self.stdout.write(
            "  (every official: <department>.<position><n>, e.g. cgj.grid_inspector3;"
            " citizens: citizen1 … citizen10)"
        )
        self.stdout.write("")
        self.stdout.write(
            "第二重验证 second factor: sign-in asks for a code sent by SMS. The local SMS gateway"
            " writes it to var/sms/outbox.jsonl; read it with:"
            "  YIWANG_ENV=demo .venv/bin/yiwang sms-outbox")
        self.stdout.write(
            "示例第三方应用 example relying party: RP_CLIENT_SECRET_FILE="
            f"{demo_accounts.example_rp_secret_path()} .venv/bin/python "
            "examples/relying_party/app.py")

    def _check(self) -> None:
        have, want = loader.census(), loader.expected()
        for name, count in have.items():
            self.stdout.write(f"  {name}: {count}")
        missing = {k: v for k, v in want.items() if have.get(k, 0) < v}
        if missing:
            raise CommandError(
                "the demo city is incomplete: "
                + ", ".join(f"{k} {have.get(k, 0)}/{v}" for k, v in missing.items())
            )
        self.stdout.write(self.style.SUCCESS("the demo city is complete"))
