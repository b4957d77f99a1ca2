"""Structured logging: JSON lines carrying the request id and zone, with personal data masked."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from yiwang.core import context
from yiwang.core.masking.service import mask_text


class ContextFilter(logging.Filter):
    """Attach request id and zone; mask ID numbers and phone numbers in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        if not hasattr(record, "request_id"):
            record.request_id = ctx.request_id
        if not hasattr(record, "zone"):
            record.zone = ctx.zone
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                return True
            record.args = None
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        return True


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
