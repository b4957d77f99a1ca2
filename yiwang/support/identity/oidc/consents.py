"""Consent (授权同意): which scopes a person let a relying party have, until revoked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity.oidc import scopes, tokens
from yiwang.support.identity.oidc.models import Consent, RelyingParty


def live_consent(user: Any, rp: RelyingParty) -> Consent | None:
    """The person's standing consent for ``rp``, or None (never given, or revoked)."""
    return Consent.objects.filter(user=user, application=rp, revoked_at__isnull=True).first()


def covers(consent: Consent | None, requested: Iterable[str]) -> bool:
    """Whether ``consent`` answered a request for ``requested`` already (asked no less)."""
    if consent is None:
        return False
    asked = set(consent.asked_scopes.split()) | set(consent.scope_list) | {scopes.OPENID}
    return set(requested) <= asked


def granted_scopes(consent: Consent | None, requested: Iterable[str]) -> list[str]:
    """The requested scopes the consent allows (``openid`` always)."""
    allowed = set(consent.scope_list if consent else []) | {scopes.OPENID}
    return [s for s in requested if s in allowed]


@transaction.atomic
def give_consent(user: Any, rp: RelyingParty, *, asked: Iterable[str],
                 granted: Iterable[str]) -> Consent:
    """Record that ``user`` let ``rp`` have ``granted`` of the ``asked`` scopes.

    Audited as ``oidc.consent_given``. ``openid`` is always part of a consent.
    """
    asked_list = scopes.normalise([*asked, scopes.OPENID])
    granted_list = scopes.normalise([s for s in granted if s in asked_list] + [scopes.OPENID])
    consent, _created = Consent.objects.update_or_create(
        user=user, application=rp,
        defaults={"scopes": " ".join(granted_list), "asked_scopes": " ".join(asked_list),
                  "revoked_at": None})
    audit.record("oidc.consent_given", rp, actor=user,
                 detail={"client_id": rp.client_id, "scopes": granted_list,
                         "declined": [s for s in asked_list if s not in granted_list]})
    return consent


def record_refusal(user: Any, rp: RelyingParty, *, asked: Iterable[str]) -> None:
    """The person declined to sign in to ``rp`` (audited as ``oidc.consent_denied``)."""
    audit.record("oidc.consent_denied", rp, actor=user,
                 detail={"client_id": rp.client_id, "scopes": scopes.normalise(asked)})


def list_consents(user: Any) -> list[Consent]:
    """The person's standing consents, newest first, with their relying parties."""
    return list(Consent.objects.filter(user=user, revoked_at__isnull=True)
                .select_related("application").order_by("-updated_at", "-id"))


@transaction.atomic
def revoke_consent(user: Any, rp: RelyingParty, actor: Any) -> bool:
    """Withdraw ``user``'s consent for ``rp`` and revoke the tokens it holds for them.

    The next sign-in to ``rp`` asks again. Returns False when there was no standing
    consent. Audited as ``oidc.consent_revoked``.
    """
    consent = (Consent.objects.select_for_update()
               .filter(user=user, application=rp, revoked_at__isnull=True).first())
    if consent is None:
        return False
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at", "updated_at"])
    revoked = tokens.revoke_client_tokens(rp, user=user)
    audit.record("oidc.consent_revoked", rp, actor=actor,
                 detail={"client_id": rp.client_id, "user": user.pk, "tokens_revoked": revoked})
    return True
