"""The perception platform (感知平台): sensor readings, their retention and the MQTT bridge."""

from __future__ import annotations

from yiwang.conf.env import env

_GROUP = "Perception (IoT)"

YIWANG_PERCEPTION_RAW_DAYS = env(
    "YIWANG_PERCEPTION_RAW_DAYS", 7, group=_GROUP,
    doc="Days raw readings are kept; older ones are deleted (their hourly and daily "
        "roll-ups stay).",
)
YIWANG_PERCEPTION_HOURLY_DAYS = env(
    "YIWANG_PERCEPTION_HOURLY_DAYS", 400, group=_GROUP,
    doc="Days hourly roll-ups (count, min, max, mean, last) are kept; daily ones stay.",
)
YIWANG_PERCEPTION_MAX_BATCH = env(
    "YIWANG_PERCEPTION_MAX_BATCH", 5000, group=_GROUP,
    doc="Most readings one HTTP request or one MQTT message may carry.",
)
YIWANG_PERCEPTION_CLOCK_SKEW = env(
    "YIWANG_PERCEPTION_CLOCK_SKEW", 300, group=_GROUP,
    doc="Seconds a reading's timestamp may lie in the future (a device clock running fast) "
        "before it is rejected.",
)
YIWANG_PERCEPTION_SILENT_FACTOR = env(
    "YIWANG_PERCEPTION_SILENT_FACTOR", 3.0, group=_GROUP,
    doc="A device is silent (flagged in its health) once it has sent nothing for this many "
        "of its reporting intervals.",
)
YIWANG_MQTT_URL = env(
    "YIWANG_MQTT_URL", "", group=_GROUP,
    doc="The MQTT broker the bridge subscribes to (mqtt://user:password@host:1883); empty: "
        "no MQTT bridge (HTTP ingestion only).",
)
YIWANG_MQTT_TOPIC_PREFIX = env(
    "YIWANG_MQTT_TOPIC_PREFIX", "yiwang/v1", group=_GROUP,
    doc="Topic prefix of device telemetry: devices publish to <prefix>/devices/<code>/"
        "telemetry and gateways to <prefix>/gateways/<code>/telemetry.",
)
YIWANG_AI_CONFIDENT = env(
    "YIWANG_AI_CONFIDENT", 0.7, group=_GROUP,
    doc="Video detections at or above this confidence (0–1) open a case at once; the others "
        "wait for a person to confirm or dismiss them.",
)
YIWANG_CAMERA_SNAPSHOT_SECONDS = env(
    "YIWANG_CAMERA_SNAPSHOT_SECONDS", 60, group=_GROUP,
    doc="How often (seconds of video) the video reader keeps a camera's latest still for the "
        "workbench and cockpit; the previous one is deleted.",
)
YIWANG_VIDEO_READER = env(
    "YIWANG_VIDEO_READER", False, group=_GROUP,
    doc="Run video inspection of the active cameras' live streams (RTSP, HTTP) inside "
        "`yiwang serve` (otherwise run `yiwang perception-video` where the cameras are "
        "reachable).",
)
