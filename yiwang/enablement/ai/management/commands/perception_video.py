"""``yiwang perception-video``: read the active cameras' streams and run video inspection
(see ``yiwang.enablement.ai.video``): one thread per camera, ``--fps`` frames analysed per
second; a stream that ends or fails is opened again after ``--retry`` seconds.

``--wait`` is the long-running mode ``yiwang serve`` uses (``YIWANG_VIDEO_READER``): only live
streams (RTSP, HTTP) are read, cameras registered or switched on later are picked up every
``--rescan`` seconds, a camera switched off stops being read, and having no camera yet is no
error. ``--once`` reads each stream (typically a recorded file) to its end and stops.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections


def _settings(camera: Any) -> tuple[str, str, str]:
    import json

    return (camera.stream_url, camera.department_code,
            json.dumps(camera.zones, sort_keys=True))


class Command(BaseCommand):
    help = "Run video inspection on the active cameras' streams."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fps", type=float, default=1.0)
        parser.add_argument("--camera", action="append", default=[],
                            help="only this camera (repeatable)")
        parser.add_argument("--once", action="store_true",
                            help="read each stream once to its end (files), then stop")
        parser.add_argument("--wait", action="store_true",
                            help="keep running: live streams only, new cameras picked up")
        parser.add_argument("--retry", type=float, default=10.0)
        parser.add_argument("--rescan", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["fps"] <= 25:
            raise CommandError("--fps must be between 0 and 25")
        if options["once"] and options["wait"]:
            raise CommandError("--once and --wait exclude each other")
        self.options = options
        self.stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        self.threads: dict[str, threading.Thread] = {}
        self.wanted: dict[str, tuple[str, str, str]] = {}
        if not self._scan() and not options["wait"]:
            raise CommandError("no active camera to read")
        while not self.stopping.is_set():
            if not options["wait"] and not any(t.is_alive() for t in self.threads.values()):
                return
            self.stopping.wait(options["rescan"] if options["wait"] else 0.5)
            if options["wait"] and not self.stopping.is_set():
                self._scan()
                close_old_connections()  # a database restarted meanwhile is reconnected

    def _scan(self) -> int:
        """Start a reader for every wanted camera that has none; returns how many are read."""
        from yiwang.platform.perception import service as perception

        cameras = list(perception.list_cameras(None, active_only=True))
        if self.options["camera"]:
            cameras = [c for c in cameras if c.code in self.options["camera"]]
        if self.options["wait"]:
            from yiwang.enablement.ai.video import LIVE_SCHEMES

            cameras = [c for c in cameras if c.stream_url.startswith(LIVE_SCHEMES)]
        # a camera is read with the settings it had when its reading began: one whose
        # address, owner or zones change is read again with the new ones
        self.wanted = {c.code: _settings(c) for c in cameras}
        for camera in cameras:
            thread = self.threads.get(camera.code)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=self._watch, args=(camera,), daemon=True,
                                          name=f"camera-{camera.code}")
                self.threads[camera.code] = thread
                thread.start()
                self.stdout.write(f"{camera.code}: reading {camera.stream_url[:80]}")
        return len(cameras)

    def _stop_when_changed(self, camera: Any) -> Any:
        """Whether to stop reading ``camera``: stopping, switched off, or its settings
        changed since (it is then read again with the new ones)."""
        code, current = camera.code, _settings(camera)
        return lambda: self.stopping.is_set() or self.wanted.get(code) != current

    def _watch(self, camera: Any) -> None:
        from yiwang.enablement.ai import service as ai
        from yiwang.platform.perception import service as perception

        while not self.stopping.is_set() and camera.code in self.wanted:
            fresh = perception.list_cameras(None, active_only=True).filter(pk=camera.pk).first()
            if fresh is None:
                return
            camera = fresh
            try:
                found = ai.read_stream(camera, fps=self.options["fps"],
                                       should_stop=self._stop_when_changed(fresh))
                self.stdout.write(f"{camera.code}: stream ended, {len(found)} detections")
            except ValidationError as exc:
                self.stderr.write(f"{camera.code}: {' '.join(exc.messages)}")
            finally:
                close_old_connections()
            if self.options["once"]:
                return
            self.stopping.wait(self.options["retry"])
