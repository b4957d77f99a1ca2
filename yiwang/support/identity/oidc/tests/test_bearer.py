"""The API scopes and ``check_bearer`` / ``user_for_bearer`` (access tokens presented to
yiwang's own API)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from yiwang.support.identity import service as identity
from yiwang.support.identity.models import AccountType
from yiwang.support.identity.oidc import scopes
from yiwang.support.identity.oidc.relying_parties import register_relying_party
from yiwang.support.identity.oidc.tests.conftest import REDIRECT, Flow, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_rp(db: Any) -> Any:
    rp, _ = register_relying_party(name="移动端", client_type="public", redirect_uris=REDIRECT,
                                   allowed_scopes="openid profile applications licences",
                                   actor=None)
    return rp


def test_the_api_scopes_are_known_and_described_in_chinese(public_client: Any) -> None:
    assert {"applications", "licences"} <= set(scopes.known())
    assert "办件" in scopes.describe("applications")
    doc = public_client.get("/.well-known/openid-configuration").json()
    assert "applications" in doc["scopes_supported"]


def test_a_relying_party_may_be_allowed_the_api_scopes(app_rp: Any) -> None:
    assert set(app_rp.allowed_scopes.split()) >= {"applications", "licences"}
    with pytest.raises(ValidationError):
        register_relying_party(name="x", client_type="public", redirect_uris=REDIRECT,
                               allowed_scopes="openid everything", actor=None)


def test_the_consent_page_names_the_scope(signed_in: Any, app_rp: Any) -> None:
    flow = Flow(signed_in, app_rp, scope="openid applications")
    page = flow.authorize()
    assert page.status_code == 200
    assert "以您的名义查看、填写、提交与撤回您的办件" in page.content.decode()


def test_check_bearer(signed_in: Any, app_rp: Any, citizen: Any) -> None:
    token = Flow(signed_in, app_rp, scope="openid applications").tokens()["access_token"]
    found = identity.check_bearer(token, scope="applications")
    assert found.ok and found.user == citizen and found.client_id == app_rp.client_id
    assert identity.user_for_bearer(token, scope="applications") == citizen
    wrong = identity.check_bearer(token, scope="licences")
    assert wrong.error == "insufficient_scope" and wrong.user is None
    for bad in ("", "x" * 600, "nope", "令牌"):
        assert identity.check_bearer(bad, scope="applications").error == "invalid_token"
    get_access_token_model().objects.filter(user=citizen).update(
        expires=timezone.now() - timedelta(seconds=1))
    expired = identity.check_bearer(token, scope="applications")
    assert expired.error == "invalid_token" and "expired" in expired.description


def test_check_bearer_refuses_officials(public_client: Any, app_rp: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    official = make_user(kind=AccountType.OFFICIAL)
    sign_in_client(public_client, official)
    token = Flow(public_client, app_rp, scope="openid applications").tokens()["access_token"]
    found = identity.check_bearer(token, scope="applications")
    assert found.error == "insufficient_scope" and found.user is None


def test_a_revoked_token_is_refused(signed_in: Any, app_rp: Any, citizen: Any) -> None:
    token = Flow(signed_in, app_rp, scope="openid applications").tokens()["access_token"]
    identity.revoke_user_tokens(citizen, reason="test")
    assert identity.user_for_bearer(token, scope="applications") is None
