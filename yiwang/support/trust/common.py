"""What every part of the trust app shares: the region this instance speaks for, its
identifiers on the web, constants, and the ledger entry every trust-list version gets.
Private to the app: other apps use ``service.py``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from yiwang.enablement.ledger import service as ledger

REGION = "region"
ROOT_PURPOSE, TSA_PURPOSE, LIST_PURPOSE = "pki.root", "pki.tsa", "trust.list"
LICENCE_PURPOSES = ("licence.vc", "licence.cose")
CERT_USAGES = ("seal", "licence", "tsa", "trust-list")
MANAGE_ALL_PERMISSION = "trust.manage_all_keys"
MANAGE_DEPARTMENT_PERMISSION = "trust.manage_department_keys"
TRUST_LIST_PERMISSION = "trust.manage_trust_lists"


def error(message: str, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params or None)


def region_code() -> str:
    """The code of the region this instance speaks for."""
    return str(settings.YIWANG_TRUST_REGION_CODE)


def region_name() -> str:
    """The name of the region this instance speaks for (O of every certificate)."""
    return str(settings.YIWANG_TRUST_REGION_NAME)


def public_url() -> str:
    return str(settings.YIWANG_PUBLIC_URL).rstrip("/")


def verification_method_id(key_id: str) -> str:
    """The VC ``verificationMethod`` of a managed licence key: its URL on this instance."""
    return f"{public_url()}/trust/keys/{key_id}"


def issuer_id(department_code: str) -> str:
    """The VC ``issuer`` (and trust-list issuer id) of a department."""
    return f"{public_url()}/trust/issuers/{department_code}"


def ledger_append(entry_type: str, record: dict[str, Any]) -> int:
    """Append to the ledger in the caller's transaction: when the ledger refuses or fails,
    the exception rolls the trust-list version back with it — a version that is not on
    the ledger is never published or imported."""
    return int(ledger.append(entry_type, record).index)
