"""Background work: the embedded database-backed worker, or Celery on Redis."""

from __future__ import annotations

from yiwang.conf.env import env
from yiwang.conf.includes.cache import REDIS_URL

YIWANG_TASKS_BACKEND = env(
    "YIWANG_TASKS_BACKEND", "celery" if REDIS_URL else "database",
    group="Cache and background work", choices=("database", "celery"),
    show_default="celery when REDIS_URL is set, else database",
    doc="Where background tasks and timers run: the embedded worker polling the database, "
        "or Celery workers on Redis.",
)
YIWANG_TASK_TIME_LIMIT = env("YIWANG_TASK_TIME_LIMIT", 300, group="Cache and background work",
                             doc="Seconds a task may run before it is stopped and retried.")
YIWANG_TASK_MAX_RETRIES = env("YIWANG_TASK_MAX_RETRIES", 3, group="Cache and background work",
                              doc="Retries for a failing task, with exponential back-off.")
YIWANG_WORKER_POLL = env("YIWANG_WORKER_POLL", 1.0, group="Cache and background work",
                         doc="Seconds the embedded worker sleeps when its queue is empty.")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
