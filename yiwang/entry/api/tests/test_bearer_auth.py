"""The citizen API with bearer tokens of our own provider (``yiwang.entry.api.auth``).

Tokens come from the provider's real endpoints (authorization code + PKCE, then the token
endpoint). Requests go to the real ``/api/v1/applications`` routes through the public
listener's middleware, with CSRF enforced as in a browser. The fixture ``wired`` checks that
the routes use ``citizen_auth`` and the API has the ``WWW-Authenticate`` handler
(``auth.install(api)`` in ``entry/api/public.py``).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.core.identifiers.service import generate_synthetic_id_number
from yiwang.entry.api import auth
from yiwang.industry.services import service as catalogue
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import bearer_token, issue_tokens, sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"
MATTER = "339900-gaj-0901"
_rng = random.Random(5)


@pytest.fixture(autouse=True)
def wired() -> None:
    """The public API carries the RFC 6750 handler and every citizen route ``citizen_auth``."""
    from django.core.cache import cache

    from yiwang.entry.api import public
    from yiwang.entry.api.routers import applications as routes

    cache.clear()  # rate-limit windows of earlier tests
    assert auth.BearerRefused in public.api._exception_handlers
    for bound in public.api._get_bound_routers():
        if bound.template is not routes.public_router:
            continue
        for view in bound.path_operations.values():
            for operation in view.operations:
                assert list(operation.auth_callbacks) == auth.citizen_auth


@pytest.fixture
def matter(db: Any) -> Any:
    regions_testing.make_chain(geometry=False)
    orgs.create_department("gaj", "公安局", region_code=regions_testing.CITY)
    made = catalogue.create_matter(
        code=MATTER, name="户籍证明", department_code="gaj", audience="person",
        promised_days=5, statutory_days=20, materials=[])
    draft = catalogue.create_draft(made)
    catalogue.save_draft(draft, form={"version": 1, "components": [
        {"type": "text", "key": "note", "label": "说明", "label_en": "Note",
         "required": False}]},
        flow_spec={"version": 1, "steps": [
            {"kind": "task", "id": "review", "name": "审查", "department": "$matter",
             "position": None, "days": 2}]}, licence={})
    catalogue.publish_version(draft)
    return made


def make_person(name: str, *, kind: str = "citizen") -> Any:
    user = get_user_model().objects.create_user(username=f"u{_rng.randrange(10**9)}",
                                                password="x" * 20)
    user.account_type = kind
    user.display_name = name
    user.real_name = name
    user.id_number = generate_synthetic_id_number(_rng, "339901")
    user.level = 2
    user.verified_at = timezone.now()
    user.verified_by = "registry"
    user.save()
    return user


@pytest.fixture
def citizen(matter: Any) -> Any:
    return make_person("李小明")


@pytest.fixture
def other(matter: Any) -> Any:
    return make_person("王小红")


@pytest.fixture
def app_client() -> Any:
    """A mobile app: no cookies, CSRF enforced as for any client."""
    return ListenerClient(_public_port(), enforce_csrf_checks=True)


def _public_port() -> int:
    from django.conf import settings

    return int(settings.YIWANG_PUBLIC_PORT)


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _draft(client: Any, token: str) -> Any:
    return client.post(f"{BASE}/drafts", {"matter_code": MATTER, "data": {"note": "移动端"}},
                       content_type="application/json", **_bearer(token))


def test_a_token_from_the_token_endpoint_works_without_csrf(app_client: Any,
                                                            citizen: Any) -> None:
    tokens = issue_tokens(citizen, scope="openid applications")
    assert "applications" in tokens.scope.split()
    made = _draft(app_client, tokens.access_token)
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    listed = app_client.get(f"{BASE}/", **_bearer(tokens.access_token))
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [pk]
    detail = app_client.get(f"{BASE}/{pk}", **_bearer(tokens.access_token))
    assert detail.status_code == 200 and detail.json()["data"] == {"note": "移动端"}
    # The write is audited in the person's name.
    event = AuditEvent.objects.filter(action="application.draft_saved").get()
    assert event.actor_id == str(citizen.pk)


def test_the_session_path_still_needs_csrf(citizen: Any) -> None:
    browser = ListenerClient(_public_port(), enforce_csrf_checks=True)
    sign_in_client(browser, citizen)
    assert browser.get(f"{BASE}/").status_code == 200
    refused = browser.post(f"{BASE}/drafts", {"matter_code": MATTER, "data": {}},
                           content_type="application/json")
    assert refused.status_code == 403


def test_no_credentials_is_401(app_client: Any, matter: Any) -> None:
    assert app_client.get(f"{BASE}/").status_code == 401


def test_an_unknown_token_is_invalid_token(app_client: Any, matter: Any) -> None:
    response = app_client.get(f"{BASE}/", **_bearer("not-a-token-of-ours"))
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert response.json()["code"] == "invalid_token"


def test_an_expired_token_is_invalid_token(app_client: Any, citizen: Any) -> None:
    from oauth2_provider.models import get_access_token_model

    token = bearer_token(citizen)
    get_access_token_model().objects.filter(user=citizen).update(
        expires=timezone.now() - timedelta(seconds=1))
    response = app_client.get(f"{BASE}/", **_bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert "expired" in response["WWW-Authenticate"]


def test_a_revoked_token_is_invalid_token(app_client: Any, citizen: Any) -> None:
    tokens = issue_tokens(citizen)
    assert app_client.get(f"{BASE}/", **_bearer(tokens.access_token)).status_code == 200
    revoked = app_client.post("/oidc/revoke/", {"token": tokens.access_token,
                                                "token_type_hint": "access_token",
                                                "client_id": tokens.client_id})
    assert revoked.status_code == 200
    response = app_client.get(f"{BASE}/", **_bearer(tokens.access_token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_revoking_a_persons_tokens_ends_api_access(app_client: Any, citizen: Any) -> None:
    token = bearer_token(citizen)
    assert app_client.get(f"{BASE}/", **_bearer(token)).status_code == 200
    identity.revoke_user_tokens(citizen, reason="lost phone")
    assert app_client.get(f"{BASE}/", **_bearer(token)).status_code == 401


def test_a_deactivated_account_loses_the_api(app_client: Any, citizen: Any) -> None:
    token = bearer_token(citizen)
    citizen.is_active = False
    citizen.save(update_fields=["is_active"])
    assert app_client.get(f"{BASE}/", **_bearer(token)).status_code == 401


def test_a_token_without_the_scope_is_insufficient_scope(app_client: Any,
                                                         citizen: Any) -> None:
    token = bearer_token(citizen, scope="openid profile")
    response = _draft(app_client, token)
    assert response.status_code == 403
    challenge = response["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="applications"' in challenge
    assert not AuditEvent.objects.filter(action="application.draft_saved").exists()


def test_a_licences_token_is_not_an_applications_token(app_client: Any,
                                                       citizen: Any) -> None:
    token = bearer_token(citizen, scope="openid licences")
    assert app_client.get(f"{BASE}/", **_bearer(token)).status_code == 403


def test_an_officials_token_is_refused(app_client: Any, matter: Any) -> None:
    official = identity.create_official("gaj.api", "官员", password="y" * 20)
    token = bearer_token(official)
    response = app_client.get(f"{BASE}/", **_bearer(token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_citizen_cannot_read_another_citizens_application(app_client: Any, citizen: Any,
                                                            other: Any) -> None:
    mine = _draft(app_client, bearer_token(citizen)).json()["id"]
    theirs = bearer_token(other)
    assert app_client.get(f"{BASE}/{mine}", **_bearer(theirs)).status_code == 404
    assert app_client.get(f"{BASE}/", **_bearer(theirs)).json()["items"] == []
    saved = app_client.put(f"{BASE}/{mine}/draft", {"data": {"note": "改"}},
                           content_type="application/json", **_bearer(theirs))
    assert saved.status_code == 404


def test_a_bad_token_does_not_fall_back_to_the_session(citizen: Any) -> None:
    browser = ListenerClient(_public_port())
    sign_in_client(browser, citizen)
    assert browser.get(f"{BASE}/").status_code == 200
    assert browser.get(f"{BASE}/", **_bearer("forged")).status_code == 401


def test_other_schemes_are_left_to_the_session(app_client: Any, citizen: Any) -> None:
    response = app_client.get(f"{BASE}/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert "invalid_token" not in response.get("WWW-Authenticate", "")


def test_clients_trying_bad_tokens_are_slowed_down(app_client: Any, matter: Any,
                                                   citizen: Any, settings: Any) -> None:
    settings.YIWANG_API_BEARER_FAILURES_PER_MINUTE = 3
    statuses = [app_client.get(f"{BASE}/", **_bearer(f"guess{n}")).status_code
                for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = app_client.get(f"{BASE}/", **_bearer("guess"))
    assert limited.status_code == 429 and limited["Retry-After"]
