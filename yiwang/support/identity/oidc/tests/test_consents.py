"""Standing consents: listing and withdrawing them, the consents page."""

from __future__ import annotations

import pytest

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity.oidc.consents import list_consents, revoke_consent
from yiwang.support.identity.oidc.models import Consent
from yiwang.support.identity.oidc.tests.conftest import Flow, make_user
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def test_revoking_consent_revokes_tokens_and_asks_again(flow, citizen, rp):
    got = flow.tokens()
    assert [c.application for c in list_consents(citizen)] == [rp]
    assert revoke_consent(citizen, rp, actor=citizen) is True
    assert list_consents(citizen) == []
    assert flow.userinfo(got["access_token"]).status_code == 401
    assert flow.refresh(got["refresh_token"]).status_code == 400
    event = AuditEvent.objects.get(action="oidc.consent_revoked")
    assert event.detail["tokens_revoked"] == 2
    assert flow.authorize().status_code == 200  # the consent screen again
    assert revoke_consent(citizen, rp, actor=citizen) is False


def test_consents_page_requires_sign_in(public_client):
    response = public_client.get("/oidc/consents/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=")


def test_consents_page_lists_and_withdraws_only_ones_own(flow, citizen, rp, public_client):
    flow.tokens()
    response = flow.client.get("/oidc/consents/")
    assert response.status_code == 200
    assert rp.name in response.content.decode()
    consent = Consent.objects.get(user=citizen)
    # Somebody else cannot see or withdraw it.
    other = ListenerClient(int(public_client.port))
    sign_in_client(other, make_user())
    assert rp.name not in other.get("/oidc/consents/").content.decode()
    assert other.post(f"/oidc/consents/{consent.pk}/revoke/").status_code == 404
    assert Consent.objects.get(pk=consent.pk).revoked_at is None
    response = flow.client.post(f"/oidc/consents/{consent.pk}/revoke/")
    assert response.status_code == 302
    assert Consent.objects.get(pk=consent.pk).revoked_at is not None
    assert "已撤销" in flow.client.get("/oidc/consents/").content.decode()


def test_consents_page_in_english(signed_in):
    response = signed_in.get("/oidc/consents/?ui_locales=en")
    assert response["Content-Language"] == "en"
    assert 'lang="en"' in response.content.decode()


def test_consent_records_are_not_shared_between_people(rp, secret, public_client):
    first, second = make_user(), make_user()
    for person in (first, second):
        browser = ListenerClient(int(public_client.port))
        sign_in_client(browser, person)
        Flow(browser, rp, secret).tokens()
    assert len(list_consents(first)) == len(list_consents(second)) == 1
    revoke_consent(first, rp, actor=first)
    assert len(list_consents(second)) == 1
