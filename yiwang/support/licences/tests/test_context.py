"""yiwang's JSON-LD context for the licence terms: served, named in new VCs, defining every
term they use; licences without it (issued before) still verify."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from yiwang.support.licences import integration
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def test_the_context_is_served_and_new_vcs_name_it(public_client: Any, record: Any,
                                                   settings: Any) -> None:
    response = public_client.get(reverse("licences:context_v1"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    terms = json.loads(response.content)["@context"]
    vc = json.loads(record.vc)
    url = settings.YIWANG_PUBLIC_URL.rstrip("/") + "/credentials/contexts/v1"
    assert vc["@context"] == [VC_CONTEXT, url]  # the VC context stays first
    subject = vc["credentialSubject"]
    for key in [*subject, *vc["type"]]:
        assert key in terms or key in {"type", "VerifiableCredential"}, key
    assert subject["type"] in terms
    scoped = terms["licence"]["@context"]
    assert set(subject["licence"]) <= set(scoped) | {"name"}  # name: the VC context's
    assert scoped["fields"]["@type"] == "@json"
    assert licences.verify_presented(kind="vc", payload=record.vc).valid


def test_a_vc_without_the_context_still_verifies(record: Any) -> None:
    """As issued before the context existed: only the VC context, proof made over that."""
    vc = json.loads(record.vc)
    vc.pop("proof")
    vc["@context"] = [VC_CONTEXT]
    key = integration.signing_key("gaj", integration.VC_PURPOSE, integration.VC_ALGORITHM)
    old = integration.add_vc_proof(vc, key)
    outcome = licences.verify_presented(kind="vc", payload=json.dumps(old, ensure_ascii=False))
    assert outcome.valid, outcome.errors
    # …and the context is covered by the proof: dropping it from a new VC breaks it.
    tampered = json.loads(record.vc)
    tampered["@context"] = [VC_CONTEXT]
    broken = licences.verify_presented(kind="vc", payload=json.dumps(tampered))
    assert not broken.valid
