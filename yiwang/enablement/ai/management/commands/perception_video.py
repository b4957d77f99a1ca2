"""``yiwang perception-video``: read the active cameras' streams and run video inspection
(see ``yiwang.enablement.ai.video``): one thread per camera, ``--fps`` frames analysed per
second; a stream that ends or fails is opened again after ``--retry`` seconds."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections


class Command(BaseCommand):
    help = "Run video inspection on the active cameras' streams."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fps", type=float, default=1.0)
        parser.add_argument("--camera", action="append", default=[],
                            help="only this camera (repeatable)")
        parser.add_argument("--once", action="store_true",
                            help="read each stream once to its end (files), then stop")
        parser.add_argument("--retry", type=float, default=10.0)

    def handle(self, *args: Any, **options: Any) -> None:
        from yiwang.enablement.ai import service as ai
        from yiwang.platform.perception import service as perception

        if not 0 < options["fps"] <= 25:
            raise CommandError("--fps must be between 0 and 25")
        cameras = list(perception.list_cameras(None, active_only=True))
        if options["camera"]:
            cameras = [c for c in cameras if c.code in options["camera"]]
        if not cameras:
            raise CommandError("no active camera to read")
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())

        def watch(camera: Any) -> None:
            while not stopping.is_set():
                try:
                    found = ai.read_stream(camera, fps=options["fps"])
                    self.stdout.write(f"{camera.code}: stream ended, {len(found)} detections")
                except ValidationError as exc:
                    self.stderr.write(f"{camera.code}: {' '.join(exc.messages)}")
                finally:
                    close_old_connections()
                if options["once"]:
                    return
                stopping.wait(options["retry"])

        threads = [threading.Thread(target=watch, args=(c,), daemon=True) for c in cameras]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads) and not stopping.is_set():
            time.sleep(0.5)
