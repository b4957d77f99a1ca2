"""``yiwang simulate city --hours 24``: the last hours of the demo city's life (see
``yiwang.demo.simulate``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Simulate the demo city: sensor readings (alarms open cases), reports from every "
            "source and their handling, over the last --hours.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["city"], help="what to simulate")
        parser.add_argument("--hours", type=float, default=24.0)
        parser.add_argument("--reports-per-hour", type=float, default=6.0)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from yiwang.demo.simulate import simulate_city

        if not 0 < options["hours"] <= 24 * 90:
            raise CommandError("--hours must be between 0 and 2160 (90 days)")
        bars: list[Any] = []

        def progress(label: str, total: int) -> Any:
            bar = tqdm(total=total, desc=label, unit="", leave=True, file=self.stderr)
            bars.append(bar)
            return bar.update

        try:
            outcome = simulate_city(options["hours"], seed=options["seed"],
                                    per_hour=options["reports_per_hour"], progress=progress)
        finally:
            for bar in bars:
                bar.close()
        self.stdout.write(
            f"simulated {options['hours']:g} h: {outcome.readings:,} readings, "
            f"{outcome.alarms} alarms, {outcome.detections} video detections, "
            f"{outcome.reports} reports, {outcome.closed} closed")
        for problem in outcome.skipped[:5]:
            self.stderr.write(f"  skipped: {problem}")
