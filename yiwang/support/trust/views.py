"""HTTP endpoints of the trust app at /trust/ on both listeners (no language prefix): the
trust list, the offline bundle, CRLs, certificates, licence keys as Multikey documents and
the RFC 3161 time-stamp authority. All public: they carry public keys and certificates only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from yiwang.core import ratelimit
from yiwang.support.trust import pki, service, trustlist

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


@require_safe
@cache_control(max_age=300, public=True)
def trust_list(request: HttpRequest) -> HttpResponse:
    """The current signed trust list (the bytes that were signed and ledgered)."""
    response = HttpResponse(service.current_trust_list(),
                            content_type="application/json; charset=utf-8")
    response["X-Root-Fingerprint"] = service.trust_list_fingerprint().replace(" ", "")
    return response


@require_safe
@cache_control(max_age=300, public=True)
def bundle(request: HttpRequest) -> JsonResponse:
    """The trust bundle for offline verifiers."""
    return JsonResponse(service.trust_bundle(), json_dumps_params={"ensure_ascii": False})


@require_safe
@cache_control(max_age=600, public=True)
def crl(request: HttpRequest, ca: str) -> HttpResponse:
    """A CA's current CRL, DER (the URL in every certificate's CRL distribution point)."""
    try:
        der = service.crl(ca)
    except ValidationError:
        raise Http404("no such CA") from None
    return HttpResponse(der, content_type="application/pkix-crl")


@require_safe
def root_certificate(request: HttpRequest) -> HttpResponse:
    """The region's root CA certificate (PEM), for importing into PDF readers and openssl."""
    return HttpResponse(service.ensure_root_ca().pem, content_type="application/x-pem-file")


@require_safe
def certificate(request: HttpRequest, serial: str) -> HttpResponse:
    """A certificate this CA issued, PEM, by serial number (hex)."""
    info = service.get_certificate(serial) if len(serial) <= 64 else None
    if info is None:
        raise Http404("no such certificate")
    return HttpResponse(info.pem, content_type="application/x-pem-file")


@require_safe
def key_document(request: HttpRequest, key_id: str) -> JsonResponse:
    """A licence key as a W3C Multikey verification method (what a VC's
    ``verificationMethod`` URL points at)."""
    found = service.resolve_key(service.verification_method_id(key_id))
    if found is None:
        raise Http404("no such key")
    return JsonResponse({
        "@context": "https://w3id.org/security/multikey/v1",
        "id": found.key_id, "type": "Multikey", "controller": found.issuer_id,
        "publicKeyMultibase": trustlist.multikey(found.algorithm, found.public_key),
        "publicKeyJwk": trustlist.jwk(found.algorithm, found.public_key),
        "status": found.status,
        "expires": trustlist.iso(found.valid_until) if found.valid_until else None,
    }, json_dumps_params={"ensure_ascii": False})


def _over_rate(request: HttpRequest) -> bool:
    return ratelimit.exceeded("trust.tsa", request,
                              per_minute=int(settings.YIWANG_TSA_RATE_PER_MINUTE or 0))


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # a protocol endpoint: no cookies, no session, no state changed for the caller
def timestamp(request: HttpRequest) -> HttpResponse:
    """RFC 3161 over HTTP: POST ``application/timestamp-query``, answered with
    ``application/timestamp-reply``. A malformed request gets a TimeStampResp with status
    ``rejection`` and HTTP 400."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    content_type = request.content_type or ""
    if content_type != QUERY_TYPE and request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        return _plain(415, f"Content-Type must be {QUERY_TYPE}")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = int(settings.YIWANG_TSA_MAX_REQUEST_BYTES)
    if length > limit:
        return _plain(413, f"a time-stamp request is at most {limit} bytes")
    if _over_rate(request):
        response = _plain(429, "too many time-stamp requests; try again in a minute")
        response["Retry-After"] = ratelimit.retry_after()
        return response
    body = request.read(limit + 1)
    if len(body) > limit:
        return _plain(413, f"a time-stamp request is at most {limit} bytes")
    reply, granted = service.timestamp_reply(body)
    return HttpResponse(reply, status=200 if granted else 400, content_type=REPLY_TYPE)


@require_safe
def fingerprint(request: HttpRequest) -> JsonResponse:
    """The root fingerprint, grouped, for out-of-band comparison."""
    root = service.ensure_root_ca()
    return JsonResponse({"region": service.region_code(), "name": service.region_name(),
                         "sha256": root.fingerprint, "grouped": pki.grouped(root.fingerprint)},
                        json_dumps_params={"ensure_ascii": False})


__all__ = ["bundle", "certificate", "crl", "fingerprint", "key_document",
           "root_certificate", "timestamp", "trust_list"]
