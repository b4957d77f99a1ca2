"""``yiwang perception-mqtt``: run the MQTT bridge (see ``yiwang.platform.perception.mqtt``)."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Subscribe to device telemetry on the MQTT broker and store it (QoS 1, acked "
            "after commit).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help="Broker URL (default: YIWANG_MQTT_URL).")
        parser.add_argument("--client-id", default="yiwang-perception",
                            help="MQTT client id (the broker keeps its session and backlog).")

    def handle(self, *args: Any, **options: Any) -> None:
        from yiwang.platform.perception.mqtt import Bridge

        url = options["url"] or settings.YIWANG_MQTT_URL
        if not url:
            raise CommandError("no broker: set YIWANG_MQTT_URL (mqtt://user:password@host:1883) "
                               "or pass --url")
        try:
            bridge = Bridge(url, client_id=options["client_id"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
        signal.signal(signal.SIGINT, lambda *_: bridge.stop())
        self.stdout.write(f"MQTT bridge: {bridge.options['host']}:{bridge.options['port']}, "
                          f"topics {bridge.prefix}/devices/+/telemetry and "
                          f"{bridge.prefix}/gateways/+/telemetry")
        stats = bridge.run()
        self.stdout.write(f"stopped: {stats.messages} messages, {stats.stored} readings stored, "
                          f"{stats.rejected} rejected")
