from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from yiwang.core import metrics
from yiwang.core.health.service import readiness


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No dependencies are touched."""
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and background worker, each with its own verdict."""
    checks = readiness()
    ok = all(c["ok"] for c in checks.values())
    if getattr(request, "zone", None) != "internal":
        # Error details name hosts and addresses of the internal network: not for the public.
        checks = {name: {k: v for k, v in c.items() if k != "detail"} for name, c in checks.items()}
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status=200 if ok else 503)


@require_safe
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    return metrics.exposition()
