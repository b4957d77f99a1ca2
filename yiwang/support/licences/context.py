"""yiwang's JSON-LD context for the licence credential terms, served at
``/credentials/contexts/v1`` and named after the W3C VC 2.0 context in new licences'
``@context``, so that the terms expand to yiwang's vocabulary instead of the VC context's
``issuer-dependent#`` fallback (VC 2.0 advises against that in production).

The ``eddsa-jcs-2022`` proof signs the JSON as written (JCS, no JSON-LD expansion), so the
context changes nothing for verification, and licences issued before it still verify.
"""

from __future__ import annotations

from typing import Any

from yiwang.support.licences.common import public_url

PATH = "/credentials/contexts/v1"
MEDIA_TYPE = "application/ld+json"


def context_url() -> str:
    """The context's URL on this instance."""
    return public_url() + PATH


def document() -> dict[str, Any]:
    """The JSON-LD context (JSON-LD 1.1; its terms protected like the VC context's)."""
    vocab = public_url() + "/credentials/vocab#"

    def term(name: str, **extra: Any) -> dict[str, Any]:
        return {"@id": vocab + name, **extra}

    return {"@context": {
        "@version": 1.1,
        "@protected": True,
        "ElectronicLicence": term("ElectronicLicence"),
        "LicenceHolder": term("LicenceHolder"),
        "holderKind": term("holderKind"),
        "holderName": term("holderName"),
        "holderCode": term("holderCode"),
        "licence": term("licence", **{"@context": {
            # Scoped to the licence object: its "type" is the licence type's code, not an
            # RDF type (a property-scoped context may redefine the VC context's protected
            # terms), and "fields" are kept as JSON.
            "@version": 1.1,
            "@protected": True,
            "identifier": term("identifier"),
            "number": term("number"),
            "type": term("licenceType"),
            "catalogueCode": term("catalogueCode"),
            "issuerCode": term("issuerCode"),
            "issuedOn": term("issuedOn",
                             **{"@type": "http://www.w3.org/2001/XMLSchema#date"}),
            "fields": term("fields", **{"@type": "@json"}),
        }}),
    }}
