"""The outcome of a verification: every check made, each named, with a bilingual message.

A result is valid only if at least one check was made and none failed; a failed check is
never turned into "valid" further up. Messages are plain strings, Chinese first and English
in brackets (this package runs without Django's translation machinery).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

# Check names, shared by every format. A verifier's UI can key its own wording on them.
MALFORMED = "malformed"  # the input could not be parsed at all
FORMAT = "format"  # parsed, but not the structure expected
PROOF = "proof"
CRYPTOSUITE = "cryptosuite"
PROOF_PURPOSE = "proof_purpose"
CREATED = "created"
VERIFICATION_METHOD = "verification_method"
KEY = "key"  # the key is known and may be used (not revoked, within its validity)
SIGNATURE = "signature"
VALIDITY = "validity"  # the credential's validFrom / validUntil (or CWT iat/exp)
ISSUER = "issuer"  # issuer on a trusted list
AUTHORISED = "authorised"  # issuer authorised for the licence type
STATUS = "status"  # not revoked / suspended
PREFIX = "prefix"
ENCODING = "encoding"  # Base45 / zlib
COSE = "cose"
IDENTIFIER = "identifier"
CERTIFICATE = "certificate"  # PDF signer's certificate chain
INTEGRITY = "integrity"  # PDF: the signature covers the whole document, digest matches


class Check(NamedTuple):
    """One named check: ``ok`` tells whether it passed, ``message`` says what was found.

    (A named tuple, not a dataclass: a verification makes about ten, and a tuple is built in
    a fraction of the time.)"""

    name: str
    ok: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "message": self.message}


_OK = itemgetter(1)  # Check.ok, read in C
_new = tuple.__new__  # Check(name, ok, message) without namedtuple's Python-level __new__


@dataclass
class Result:
    """What a verification found.

    ``subject`` holds the verified claims (the credentialSubject or the QR's licence fields)
    once the signature checked out; ``summary`` holds facts worth showing (kind, issuer,
    identifier, key). Neither is trustworthy unless ``valid``.
    """

    checks: list[Check] = field(default_factory=list)
    subject: dict[str, Any] | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    # The trusted key the signature verified with (a keys.KeyInfo); not part of to_dict().
    key: Any = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        """True only if checks were made and every one passed."""
        return bool(self.checks) and all(map(_OK, self.checks))

    @property
    def errors(self) -> list[Check]:
        """The failed checks, in the order they were made."""
        return [c for c in self.checks if not c.ok]

    def passed(self, name: str, message: str) -> None:
        self.checks.append(_new(Check, (name, True, message)))

    def failed(self, name: str, message: str) -> Result:
        """Record a failed check; returns ``self`` so callers can ``return result.failed(...)``."""
        self.checks.append(_new(Check, (name, False, message)))
        return self

    def extend(self, other: Result) -> None:
        """Take over another result's checks, subject and summary."""
        self.checks.extend(other.checks)
        if other.subject is not None:
            self.subject = other.subject
        self.summary.update(other.summary)
        if other.key is not None:
            self.key = other.key

    def failed_names(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checks": [c.to_dict() for c in self.checks],
            "subject": self.subject,
            "summary": self.summary,
        }
