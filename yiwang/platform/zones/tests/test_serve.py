"""What ``yiwang serve`` runs beside the web server, from the settings."""

from __future__ import annotations

from typing import Any

from yiwang.platform.zones.management.commands.serve import background_processes


def test_serve_runs_the_bridge_and_the_reader_when_configured(settings: Any) -> None:
    settings.YIWANG_MQTT_URL, settings.YIWANG_VIDEO_READER = "", False
    assert [p.name for p in background_processes()] == ["worker"]
    settings.YIWANG_MQTT_URL = "mqtt://bridge:secret@127.0.0.1:1883"
    settings.YIWANG_VIDEO_READER = True
    found = {p.name: p.command[-2:] for p in background_processes(worker=False)}
    assert found == {"MQTT bridge": ["yiwang", "perception-mqtt"],
                     "video inspection": ["perception-video", "--wait"]}
