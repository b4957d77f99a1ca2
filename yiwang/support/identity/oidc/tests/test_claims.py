"""Claims per scope: masked personal data, the enterprise acted for, officials' posts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity.models import (
    AccountSession,
    AccountType,
    EnterpriseAccount,
    Mandate,
    MandateRole,
)
from yiwang.support.identity.oidc import claims, firstparty
from yiwang.support.identity.oidc.tests.conftest import Flow, make_user
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db

ALL = ["openid", "profile", "identity", "phone", "enterprise", "official"]


def test_only_the_claims_of_the_granted_scopes(rp, citizen):
    assert claims.user_claims(citizen, rp, ["openid"]) == {"sub": str(citizen.pk)}
    found = claims.user_claims(citizen, rp, ["openid", "phone"])
    assert set(found) == {"sub", "phone_number_masked", "phone_number_verified"}
    assert found["phone_number_masked"] == "139****5678"


def test_identity_scope_reveals_only_the_masked_number_and_the_level(rp, citizen):
    found = claims.user_claims(citizen, rp, ["openid", "identity"])
    assert found["id_number_masked"] != citizen.id_number
    assert found["id_number_masked"].startswith("110") and "*" in found["id_number_masked"]
    assert found["level"] == "L2" and found["real_name_verified"] is True
    unverified = make_user(verified=False)
    found = claims.user_claims(unverified, rp, ["openid", "identity"])
    assert found["level"] == "L1" and "id_number_masked" not in found


@pytest.fixture
def enterprise(citizen):
    company = EnterpriseAccount.objects.create(credit_code="91339900MA2ABCDE1X",
                                               name="示例市湖畔科技有限公司",
                                               representative=citizen)
    agent = make_user()
    mandate = Mandate.objects.create(enterprise=company, agent=agent, role=MandateRole.AGENT,
                                     scopes=["licences"], granted_by=citizen,
                                     valid_from=timezone.now() - timedelta(days=1))
    return company, agent, mandate


def test_act_for_from_the_sessions_acting_identity_and_the_live_mandate(rp, enterprise):
    company, agent, mandate = enterprise
    session = AccountSession.objects.create(sid="s1", user=agent, auth_time=timezone.now(),
                                            acr=2, amr=["pwd"], acting_for=company.credit_code)
    found = claims.user_claims(agent, rp, ALL, session=session)
    assert found["account_type"] == "enterprise"
    assert found["act_for"]["credit_code"] == company.credit_code
    assert found["act_for"]["name"] == company.name
    assert found["act_for"]["role"] == "agent"
    assert isinstance(found["act_for"]["scopes"], list)
    # Without the enterprise scope the relying party learns only that it is an enterprise.
    assert "act_for" not in claims.user_claims(agent, rp, ["openid", "profile"], session=session)
    # A revoked mandate ends it at once, whatever the session says.
    Mandate.objects.filter(pk=mandate.pk).update(revoked_at=timezone.now())
    found = claims.user_claims(agent, rp, ALL, session=session)
    assert found["account_type"] == "citizen" and "act_for" not in found


def test_act_for_reaches_userinfo(public_client, rp, secret, enterprise):
    company, agent, _mandate = enterprise
    sign_in_client(public_client, agent, acting_for=company.credit_code)
    flow = Flow(public_client, rp, secret, scope="openid profile enterprise")
    got = flow.tokens()
    info = flow.userinfo(got["access_token"]).json()
    assert info["act_for"]["credit_code"] == company.credit_code
    id_claims = firstparty.verify_id_token(got["id_token"], client_id=rp.client_id, nonce=None)
    assert id_claims["account_type"] == "enterprise"


def test_officials_department_and_positions(rp):
    make_chain(geometry=False)
    orgs.create_department("scjgj", "市场监管局", region_code=CITY)
    orgs.create_position("scjgj", "reviewer", "审批员")
    orgs.create_department("gaj", "公安局", region_code=CITY)
    official = make_user(kind=AccountType.OFFICIAL)
    orgs.add_member(official, "scjgj", position_code="reviewer", primary=True)
    orgs.add_member(official, "gaj")
    found = claims.user_claims(official, rp, ["openid", "official"])
    assert found["department"] == {"code": "scjgj", "name": "市场监管局"}
    assert found["positions"] == [{"department": "scjgj", "department_name": "市场监管局",
                                   "code": "reviewer", "name": "审批员"}]
    citizen = make_user()
    assert "department" not in claims.user_claims(citizen, rp, ["openid", "official"])
