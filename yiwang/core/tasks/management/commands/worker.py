"""``yiwang worker``: run background tasks and timers, on whichever backend is configured."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand, CommandError

from yiwang.core.tasks import registry


class Command(BaseCommand):
    help = ("运行后台任务和定时任务。Run background tasks and timers: the embedded worker "
            "(database backend) or a Celery worker (YIWANG_TASKS_BACKEND=celery).")
    # A worker serves no URLs: check the models it runs against, not the URL configuration.
    requires_system_checks = [checks.Tags.models]

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", "--burst", action="store_true", dest="once",
                            help="Run what is due, then exit (database backend only).")
        parser.add_argument("--queue", "-Q", action="append", dest="queues", default=None,
                            help="Only take jobs from this queue (repeatable). Default: all.")
        parser.add_argument("--concurrency", "-c", type=int, default=None,
                            help="Celery pool processes (Celery backend only). Run more "
                                 "`yiwang worker` processes to scale the embedded worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        queues = [q for item in options["queues"] or [] for q in item.split(",") if q]
        unknown = sorted(set(queues) - set(registry.queues()))
        if unknown:
            raise CommandError(f"no task uses queue(s) {', '.join(unknown)}; "
                               f"known: {', '.join(registry.queues())}")
        if settings.YIWANG_TASKS_BACKEND == "celery":
            if options["once"]:
                raise CommandError("--once works with the database backend only")
            from yiwang.core.tasks import celery_app

            celery_app.run_worker(queues=queues or registry.queues(),
                                  concurrency=options["concurrency"],
                                  loglevel=str(settings.LOG_LEVEL))
            return
        if options["concurrency"]:
            raise CommandError("--concurrency is for the Celery backend; to run jobs in "
                               "parallel, start more `yiwang worker` processes")
        from yiwang.core.tasks.worker import DatabaseWorker

        DatabaseWorker(queues=queues or None).serve(once=options["once"])
