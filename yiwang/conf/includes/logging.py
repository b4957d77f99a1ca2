"""Structured JSON logs with request ids; personal data is masked before it is written."""

from __future__ import annotations

from yiwang.conf.env import env

LOG_LEVEL = env("YIWANG_LOG_LEVEL", "INFO", group="Logging",
                choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                doc="Minimum level written to the log.")
LOG_FORMAT = env("YIWANG_LOG_FORMAT", "json", group="Logging", choices=("json", "text"),
                 doc="`json` (one object per line, for collectors) or `text` (for people).")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "yiwang.core.health.logs.ContextFilter"},
    },
    "formatters": {
        "json": {"()": "yiwang.core.health.logs.JsonFormatter"},
        "text": {"()": "yiwang.core.health.logs.TextFormatter",
                 "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                    "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "WARNING", "propagate": True},
        # SpiffWorkflow logs every task state change at INFO
        "spiff": {"level": "WARNING"},
    },
}
