"""Public machine-readable endpoints: status list credentials, the licence JSON-LD context."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from yiwang.support.licences import context as licence_context
from yiwang.support.licences import service


@require_safe
@cache_control(public=True, max_age=60)
def status_list(request: HttpRequest, list_id: str) -> HttpResponse:
    """The signed status list credential (anyone may fetch it: it holds bits, not people)."""
    document = service.status_list_document(list_id)
    if document is None:
        raise Http404("unknown status list")
    return HttpResponse(json.dumps(document, ensure_ascii=False),
                        content_type="application/vc+ld+json; charset=utf-8")


@require_safe
@cache_control(public=True, max_age=86400)
def context(request: HttpRequest) -> HttpResponse:
    """yiwang's JSON-LD context of the licence credential terms (static)."""
    return HttpResponse(json.dumps(licence_context.document(), ensure_ascii=False, indent=2),
                        content_type=f"{licence_context.MEDIA_TYPE}; charset=utf-8")
