"""The trust API on /api/v1/trust and the /trust/ endpoints, on both listeners."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl

from yiwang.core.crypto import service as crypto
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.trust import pki
from yiwang.support.trust import service as trust
from yiwang.support.trust.tests.test_workbench import official

pytestmark = pytest.mark.django_db


def test_public_endpoints_on_both_listeners(city: Any, public_client: Any,
                                            internal_client: Any) -> None:
    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    cert = trust.certify_key(key.id, department_code="scjg", usage="licence")
    for client in (public_client, internal_client):
        listed = client.get("/trust/list.json")
        assert listed.status_code == 200
        assert json.loads(listed.content)["type"] == "YiwangTrustList"
        bundle = client.get("/trust/bundle.json").json()
        assert [k["id"] for k in bundle["keys"]] == [trust.verification_method_id(key.id)]
        crl = client.get("/trust/crl/root.crl")
        assert crl["Content-Type"] == "application/pkix-crl"
        asn1_crl.CertificateList.load(crl.content).native  # noqa: B018
        assert client.get("/trust/crl/other.crl").status_code == 404
        assert client.get(f"/trust/certificates/{cert.serial}.pem").content.decode() == cert.pem
        document = client.get(f"/trust/keys/{key.id}").json()
        assert document["type"] == "Multikey" and document["publicKeyMultibase"].startswith("z")
        assert client.get("/trust/keys/nope").status_code == 404
    api = public_client.get(f"/api/v1/trust/certificates/{cert.serial}")
    assert api.status_code == 200 and api.json()["usage"] == "licence"
    assert public_client.get("/api/v1/trust/certificates/abc").status_code == 404
    status = public_client.get(f"/api/v1/trust/certificates/{cert.serial}/status").json()
    assert status["status"] == "valid"
    trust.revoke_certificate(cert.serial, reason="key_compromise")
    status = public_client.get(f"/api/v1/trust/certificates/{cert.serial}/status").json()
    assert status["status"] == "revoked" and status["reason"] == "key_compromise"
    fingerprint = public_client.get("/api/v1/trust/fingerprint").json()
    assert pki.normalise_fingerprint(fingerprint["grouped"]) == fingerprint["sha256"]
    assert public_client.get("/api/v1/trust/list").json()["region"]["code"] == "339900000000"
    assert "keys" in public_client.get("/api/v1/trust/bundle").json()


def test_internal_api_rules(city: Any, internal_client: Any) -> None:
    assert internal_client.get("/api/v1/trust/departments/scjg/certificates").status_code == 401
    sign_in_client(internal_client, official("scjg.member", "scjg"))  # membership alone
    assert internal_client.get("/api/v1/trust/departments/scjg/certificates").status_code == 403
    sign_in_client(internal_client, official("scjg.api", "scjg", "trust.manage_department_keys"))
    assert internal_client.get("/api/v1/trust/departments/scjg/certificates").status_code == 200
    assert internal_client.get("/api/v1/trust/departments/rsj/certificates").status_code == 403
    assert internal_client.get("/api/v1/trust/imported").status_code == 403
