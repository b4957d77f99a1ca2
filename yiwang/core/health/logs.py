"""Structured logging: JSON lines carrying the request id and zone, with personal data masked."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from yiwang.core import context
from yiwang.core.masking.service import mask_text


class ContextFilter(logging.Filter):
    """Attach request id and zone, and drop tracebacks of client errors. Masking is the
    formatters' job: they see the whole line, extra fields and tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            # A refused or bad request is the client's business: one line, no traceback.
            record.exc_info = None
            record.exc_text = None
        # Django logs some request errors (django.request) after the middleware has
        # returned; those records carry the request itself.
        request = getattr(record, "request", None)
        if not hasattr(record, "request_id"):
            record.request_id = getattr(request, "request_id", None) or ctx.request_id
        if not hasattr(record, "zone"):
            zone = getattr(request, "zone", None)
            record.zone = getattr(zone, "value", None) or ctx.zone
        return True


class TextFormatter(logging.Formatter):
    """Lines for people, with personal data masked over the whole line."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line; every string field is masked, not only the message
    (a request's repr carries its query string, an exception may quote input)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key, value in log_data.items():
            if isinstance(value, str):
                log_data[key] = mask_text(value)
            elif not isinstance(value, (int, float, bool, type(None))):
                log_data[key] = mask_text(str(value))
        return log_data
