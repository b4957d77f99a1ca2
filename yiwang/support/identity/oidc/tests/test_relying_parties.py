"""Registering and managing relying parties."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity import service as identity
from yiwang.support.identity.oidc.models import RelyingParty
from yiwang.support.identity.oidc.relying_parties import (
    get_relying_party,
    list_relying_parties,
    register_relying_party,
    rotate_client_secret,
    set_relying_party_active,
    update_relying_party,
)

pytestmark = pytest.mark.django_db

OK = "https://app.example.org/cb"


def _register(**overrides):
    values = {"name": "应用", "client_type": "confidential", "redirect_uris": OK, "actor": None}
    values.update(overrides)
    return register_relying_party(**values)


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_the_facade_exports_the_provider_functions():
    for name in ("register_relying_party", "update_relying_party", "rotate_client_secret",
                 "set_relying_party_active", "list_relying_parties", "get_relying_party",
                 "revoke_user_tokens", "list_consents", "revoke_consent", "firstparty"):
        assert hasattr(identity, name), name


def test_register_confidential_and_public_clients():
    rp, secret = _register(allowed_scopes="profile phone", min_level=2)
    assert secret and len(secret) >= 40
    assert rp.client_secret != secret  # only the hash is kept
    assert rp.allowed_scopes == "openid profile phone"  # openid always, known order
    assert rp.algorithm == "RS256" and rp.active and rp.min_level == 2
    assert get_relying_party(rp.client_id) == rp
    event = AuditEvent.objects.get(action="oidc.relying_party_registered")
    assert event.detail["client_id"] == rp.client_id
    assert secret not in str(AuditEvent.objects.values_list("detail", flat=True))
    public, none = _register(client_type="public", name="小程序")
    assert none is None and public.client_type == "public"


@pytest.mark.parametrize(("field", "value"), [
    ("redirect_uris", "app.example.org/cb"),
    ("redirect_uris", "https://app.example.org/cb#frag"),
    ("redirect_uris", "https://user:pw@app.example.org/cb"),
    ("redirect_uris", "javascript:alert(1)"),
    ("post_logout_redirect_uris", "ftp://app.example.org/"),
    ("backchannel_logout_uri", "https://app.example.org/bcl#x"),
    ("allowed_scopes", "openid email"),
    ("min_level", 4),
    ("subject_type", "random"),
    ("department_code", "no-such-department"),
])
def test_invalid_settings_are_refused_with_a_message(field, value):
    with pytest.raises(ValidationError) as caught:
        _register(**{field: value})
    assert field in caught.value.message_dict
    assert not RelyingParty.objects.exists()


def test_https_only_in_production(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER,
                                "ALLOWED_REDIRECT_URI_SCHEMES": ["https"]}
    with pytest.raises(ValidationError) as caught:
        _register(redirect_uris="http://app.example.org/cb")
    assert "https://" in caught.value.message_dict["redirect_uris"][0]
    _register(redirect_uris=OK)


def test_service_accounts_must_be_confidential_and_others_need_a_redirect():
    with pytest.raises(ValidationError):
        _register(client_type="public", allow_client_credentials=True)
    with pytest.raises(ValidationError):
        _register(redirect_uris="")
    rp, _secret = _register(redirect_uris="", allow_client_credentials=True)
    assert rp.allows_grant_type(rp.GRANT_CLIENT_CREDENTIALS)
    assert rp.allows_grant_type(rp.GRANT_AUTHORIZATION_CODE)


def test_update_is_validated_and_audited():
    rp, _secret = _register()
    update_relying_party(rp, actor=None, name="新名称", min_level=3,
                         redirect_uris=[OK, "https://app.example.org/other"])
    rp.refresh_from_db()
    assert rp.name == "新名称" and rp.min_level == 3
    assert rp.redirect_uris == f"{OK} https://app.example.org/other"
    event = AuditEvent.objects.filter(action="oidc.relying_party_updated").last()
    assert set(event.detail["changed"]) == {"name", "min_level", "redirect_uris"}
    with pytest.raises(ValidationError):
        update_relying_party(rp, actor=None, redirect_uris="https://x.example.org/#f")
    with pytest.raises(TypeError):
        update_relying_party(rp, actor=None, client_secret="mine")


def test_rotating_the_secret_replaces_it(public_client):
    rp, old = _register(redirect_uris="", allow_client_credentials=True)
    new = rotate_client_secret(rp, actor=None)
    assert new != old
    grant = {"grant_type": "client_credentials"}
    assert public_client.post("/oidc/token/", grant,
                              HTTP_AUTHORIZATION=_basic(rp.client_id, old)).status_code == 401
    assert public_client.post("/oidc/token/", grant,
                              HTTP_AUTHORIZATION=_basic(rp.client_id, new)).status_code == 200
    assert AuditEvent.objects.filter(action="oidc.client_secret_rotated").exists()
    public, _none = _register(client_type="public")
    with pytest.raises(ValidationError):
        rotate_client_secret(public, actor=None)


def test_enable_disable_and_list_by_department():
    make_chain(geometry=False)
    orgs.create_department("scjgj", "市场监管局", region_code=CITY)
    mine, _s = _register(name="B 审批系统", department_code="scjgj")
    other, _s = _register(name="A 办件系统")
    assert list_relying_parties() == [other, mine]  # by name
    assert list_relying_parties("scjgj") == [mine]
    set_relying_party_active(mine, False, actor=None)
    assert not RelyingParty.objects.get(pk=mine.pk).active
    assert AuditEvent.objects.filter(action="oidc.relying_party_disabled").exists()
    set_relying_party_active(mine, True, actor=None)
    assert RelyingParty.objects.get(pk=mine.pk).active


def test_a_fixed_client_id_for_platform_apps():
    rp, _secret = _register(client_id="yiwang-workbench")
    assert get_relying_party("yiwang-workbench") == rp
    with pytest.raises(ValidationError) as caught:
        _register(client_id="yiwang-workbench")
    assert "client_id" in caught.value.message_dict
    with pytest.raises(ValidationError):
        _register(client_id="has space")
