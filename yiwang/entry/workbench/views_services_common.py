"""Helpers shared by the workbench pages of the services area (服务事项): the access
checks on a matter, a version and a bundle, and the form of a service's ``ValidationError``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from yiwang.industry.services import service

CHANGE = "services.change_matter"
NAV = "services"


def matter_or_403(request: HttpRequest, code: str) -> service.Matter:
    matter = service.get_matter(code)
    if matter is None:
        raise Http404("no such matter")
    if not service.may_edit(request.user, matter):
        raise PermissionDenied("another department's matter")
    return matter


def version_or_403(request: HttpRequest, pk: int) -> service.ServiceVersion:
    version = service.get_version(pk)
    if version is None:
        raise Http404("no such version")
    if not service.may_edit(request.user, version.matter):
        raise PermissionDenied("another department's matter")
    return version


def error_list(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def has_template(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True
