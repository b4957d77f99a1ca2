"""Prometheus metrics. Under gunicorn, worker processes share them through
``PROMETHEUS_MULTIPROC_DIR`` (set by ``yiwang serve``)."""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

REQUESTS = Counter(
    "yiwang_http_requests_total", "HTTP requests served", ["zone", "method", "status"]
)
LATENCY = Histogram(
    "yiwang_http_request_seconds", "Time to answer an HTTP request", ["zone"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter("yiwang_tasks_total", "Background tasks finished", ["task", "outcome"])

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def observe_request(
    request: HttpRequest, response: HttpResponse, zone: str, seconds: float
) -> None:
    method = request.method if request.method in _METHODS else "OTHER"
    REQUESTS.labels(zone, method, str(response.status_code)).inc()
    LATENCY.labels(zone).observe(seconds)


def exposition() -> HttpResponse:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
