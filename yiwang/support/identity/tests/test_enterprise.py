"""法人账户 and 授权委托：opening an enterprise account, granting and revoking agents, and
switching the identity a session acts as."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity import enterprise as ent
from yiwang.support.identity import service as identity
from yiwang.support.identity.models import (
    AccountSession,
    EnterpriseAccount,
    EnterpriseStatus,
    Mandate,
    MandateRole,
)
from yiwang.support.identity.sessions import SESSION_KEY, new_sid
from yiwang.support.identity.tests.test_enterprise_helpers import (
    citizen,
    new_credit_code,
    registry_enterprise,
)

pytestmark = pytest.mark.django_db


def events(action: str) -> list[audit.AuditEvent]:
    return list(audit.search(audit.AuditFilter(action=action)))


def codes(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {e.code for e in excinfo.value.error_list}  # type: ignore[misc]


def in_days(days: int) -> Any:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def rep() -> Any:
    return citizen("rep", real_name="王法人")


@pytest.fixture
def company(rep: Any) -> EnterpriseAccount:
    found = registry_enterprise(rep)
    return identity.register_enterprise_account(rep, found.credit_code, actor=rep)


def request_for(user: Any, acting_for: str = "") -> Any:
    session = AccountSession.objects.create(sid=new_sid(), user=user, auth_time=timezone.now(),
                                            acr=2, amr=["pwd"], acting_for=acting_for)
    request = RequestFactory().get("/")
    request.session = {SESSION_KEY: session.sid}  # type: ignore[assignment]
    request.user = user
    return request


def fresh(request: Any) -> Any:
    """The same browser's next request (nothing cached on the request object)."""
    again = RequestFactory().get("/")
    again.session = request.session
    again.user = request.user
    return again


# --- register_enterprise_account -----------------------------------------------------------

def test_representative_opens_the_account(rep: Any) -> None:
    found = registry_enterprise(rep, name="示例市东湖餐饮有限公司")
    account = identity.register_enterprise_account(rep, found.credit_code.lower(), actor=rep)
    assert account.credit_code == found.credit_code
    assert account.name == "示例市东湖餐饮有限公司"
    assert account.representative == rep
    mandate = Mandate.objects.get(enterprise=account)
    assert mandate.role == MandateRole.REPRESENTATIVE
    assert mandate.expires_at is None and mandate.revoked_at is None
    assert [a.credit_code for a in identity.acting_identities(rep)] == [found.credit_code]
    (event,) = events("identity.enterprise_registered")
    assert event.detail["credit_code"] == found.credit_code
    assert rep.id_number not in str(event.detail)


def test_bad_checksum_is_refused_with_the_part_that_is_wrong(rep: Any) -> None:
    code = new_credit_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError) as excinfo:
        identity.register_enterprise_account(rep, wrong, actor=rep)
    assert codes(excinfo) == {"invalid"}
    assert "校验位" in str(excinfo.value.messages[0])
    assert events("identity.enterprise_refused")[0].detail["reason"] == "invalid"


def test_unknown_enterprise_is_refused(rep: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        identity.register_enterprise_account(rep, new_credit_code(), actor=rep)
    assert codes(excinfo) == {"unknown"}
    assert not EnterpriseAccount.objects.exists()


@pytest.mark.parametrize("status", ["cancelled", "revoked"])
def test_cancelled_or_revoked_enterprise_is_refused(rep: Any, status: str) -> None:
    found = registry_enterprise(rep, status=status)
    with pytest.raises(ValidationError) as excinfo:
        identity.register_enterprise_account(rep, found.credit_code, actor=rep)
    assert codes(excinfo) == {"inactive"}


def test_somebody_elses_enterprise_is_refused(rep: Any) -> None:
    found = registry_enterprise(None)
    with pytest.raises(ValidationError) as excinfo:
        identity.register_enterprise_account(rep, found.credit_code, actor=rep)
    assert codes(excinfo) == {"not_representative"}
    assert events("identity.enterprise_refused")[0].detail["reason"] == "not_representative"


def test_only_real_name_verified_accounts_may_open_one() -> None:
    unverified = citizen("l1", level=1)
    found = registry_enterprise(None)
    with pytest.raises(ValidationError) as excinfo:
        identity.register_enterprise_account(unverified, found.credit_code, actor=unverified)
    assert codes(excinfo) == {"not_verified"}


def test_opening_twice_is_refused(rep: Any, company: EnterpriseAccount) -> None:
    with pytest.raises(ValidationError) as excinfo:
        identity.register_enterprise_account(rep, company.credit_code, actor=rep)
    assert codes(excinfo) == {"already"}


def test_a_new_representative_takes_the_account_over(rep: Any, company: EnterpriseAccount
                                                     ) -> None:
    successor = citizen("successor")
    found = registry_enterprise(successor, credit_code=company.credit_code, name=company.name)
    assert found.legal_representative.name == successor.display_name
    request = request_for(rep, acting_for=company.credit_code)
    account = identity.register_enterprise_account(successor, company.credit_code,
                                                   actor=successor)
    assert account.pk == company.pk and account.representative == successor
    assert identity.mandates_for(rep) == []
    assert identity.current_acting(fresh(request)) is None
    assert events("identity.enterprise_registered")[0].detail["representative_changed"] is True


# --- grant_mandate ---------------------------------------------------------------------------

def test_representative_grants_an_agent_by_login(rep: Any, company: EnterpriseAccount) -> None:
    agent = citizen("agent")
    mandate = identity.grant_mandate(company, agent_login="agent", scopes=["query", "apply"],
                                     expires_at=in_days(30), actor=rep)
    assert mandate.role == MandateRole.AGENT
    assert mandate.scopes == ["apply", "query"]  # in the fixed order
    assert identity.mandate_of(agent, company) == mandate
    (event,) = events("identity.mandate_granted")
    assert event.detail["agent"] == agent.pk and event.detail["scopes"] == ["apply", "query"]


def test_grant_by_name_and_id_number(rep: Any, company: EnterpriseAccount) -> None:
    agent = citizen("agent2", real_name="李经办")
    mandate = identity.grant_mandate(company, agent_name="李经办",
                                     agent_id_number=agent.id_number, scopes=["pay"],
                                     expires_at=in_days(10), actor=rep)
    assert mandate.agent == agent
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_name="李别人", agent_id_number=agent.id_number,
                               scopes=["pay"], expires_at=in_days(10), actor=rep)
    assert codes(excinfo) == {"agent_not_found"}


@pytest.mark.parametrize(("scopes", "days", "code"), [
    ([], 30, "scope_required"),
    (["fly"], 30, "scope_unknown"),
    (["query"], -1, "expiry_past"),
    (["query"], 3 * 366 + 2, "expiry_too_far"),
])
def test_grant_checks_scopes_and_expiry(rep: Any, company: EnterpriseAccount,
                                        scopes: list[str], days: int, code: str) -> None:
    citizen("agent")
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_login="agent", scopes=scopes,
                               expires_at=in_days(days), actor=rep)
    assert codes(excinfo) == {code}


def test_grant_needs_an_expiry(rep: Any, company: EnterpriseAccount) -> None:
    citizen("agent")
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_login="agent", scopes=["query"], expires_at=None,
                               actor=rep)
    assert codes(excinfo) == {"expiry_required"}


def test_agent_must_be_real_name_verified(rep: Any, company: EnterpriseAccount) -> None:
    citizen("weak", level=1)
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_login="weak", scopes=["query"],
                               expires_at=in_days(5), actor=rep)
    assert codes(excinfo) == {"agent_not_verified"}


def test_one_live_mandate_per_agent(rep: Any, company: EnterpriseAccount) -> None:
    citizen("agent")
    identity.grant_mandate(company, agent_login="agent", scopes=["query"],
                           expires_at=in_days(5), actor=rep)
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_login="agent", scopes=["pay"],
                               expires_at=in_days(5), actor=rep)
    assert codes(excinfo) == {"agent_already"}


def test_agent_without_manage_cannot_grant(rep: Any, company: EnterpriseAccount) -> None:
    agent = citizen("agent")
    citizen("other")
    identity.grant_mandate(company, agent_login="agent", scopes=["query", "apply"],
                           expires_at=in_days(5), actor=rep)
    with pytest.raises(PermissionDenied):
        identity.grant_mandate(company, agent_login="other", scopes=["query"],
                               expires_at=in_days(5), actor=agent)
    assert events("identity.mandate_refused")


def test_managing_agent_grants_within_their_own_mandate(rep: Any, company: EnterpriseAccount
                                                        ) -> None:
    manager = citizen("manager")
    citizen("other")
    identity.grant_mandate(company, agent_login="manager", scopes=["manage", "query"],
                           expires_at=in_days(30), actor=rep)
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_login="other", scopes=["pay"],
                               expires_at=in_days(5), actor=manager)
    assert codes(excinfo) == {"scope_beyond_granter"}
    with pytest.raises(ValidationError) as excinfo:
        identity.grant_mandate(company, agent_login="other", scopes=["query"],
                               expires_at=in_days(60), actor=manager)
    assert codes(excinfo) == {"expiry_beyond_granter"}
    granted = identity.grant_mandate(company, agent_login="other", scopes=["query"],
                                     expires_at=in_days(20), actor=manager)
    assert granted.granted_by == manager


def test_representative_of_one_enterprise_cannot_manage_another(rep: Any,
                                                                company: EnterpriseAccount
                                                                ) -> None:
    other_rep = citizen("rep_b")
    other = identity.register_enterprise_account(
        other_rep, registry_enterprise(other_rep, name="乙公司").credit_code, actor=other_rep)
    citizen("agent")
    with pytest.raises(PermissionDenied):
        identity.grant_mandate(other, agent_login="agent", scopes=["query"],
                               expires_at=in_days(5), actor=rep)
    with pytest.raises(PermissionDenied):
        identity.mandates_of_enterprise(other, actor=rep)
    assert [m.agent for m in identity.mandates_of_enterprise(company, actor=rep)] == [rep]


# --- revoke_mandate and the sessions acting under it ----------------------------------------

def test_revoking_takes_effect_on_the_agents_next_request(rep: Any, company: EnterpriseAccount
                                                          ) -> None:
    agent = citizen("agent")
    mandate = identity.grant_mandate(company, agent_login="agent", scopes=["apply"],
                                     expires_at=in_days(5), actor=rep)
    request = request_for(agent)
    acting = identity.switch_identity(request, company.credit_code)
    assert acting is not None and acting.scopes == ("apply",)
    assert identity.has_scope(fresh(request), "apply")
    assert not identity.has_scope(fresh(request), "pay")

    identity.revoke_mandate(mandate, actor=rep, reason="离职")
    after = fresh(request)
    assert identity.current_acting(after) is None
    assert not identity.has_scope(after, "apply")
    assert identity.current_session(after).acting_for == ""
    (event,) = events("identity.mandate_revoked")
    assert event.detail["reason"] == "离职" and event.detail["sessions_switched"] == 1


def test_an_expired_mandate_falls_back_to_the_personal_identity(rep: Any,
                                                                company: EnterpriseAccount
                                                                ) -> None:
    agent = citizen("agent")
    mandate = identity.grant_mandate(company, agent_login="agent", scopes=["apply"],
                                     expires_at=in_days(5), actor=rep)
    request = request_for(agent, acting_for=company.credit_code)
    assert identity.current_acting(fresh(request)) is not None
    Mandate.objects.filter(pk=mandate.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert identity.current_acting(fresh(request)) is None
    assert AccountSession.objects.get(sid=request.session[SESSION_KEY]).acting_for == ""
    assert events("identity.identity_switched")[0].detail["reason"] == "mandate_ended"
    assert identity.mandates_for(agent) == []


def test_a_suspended_enterprise_counts_for_nobody(rep: Any, company: EnterpriseAccount) -> None:
    EnterpriseAccount.objects.filter(pk=company.pk).update(status=EnterpriseStatus.SUSPENDED)
    assert identity.mandates_for(rep) == []
    with pytest.raises(ValidationError):
        identity.switch_identity(request_for(rep), company.credit_code)


def test_who_may_revoke(rep: Any, company: EnterpriseAccount) -> None:
    agent = citizen("agent")
    bystander = citizen("bystander")
    mandate = identity.grant_mandate(company, agent_login="agent", scopes=["query"],
                                     expires_at=in_days(5), actor=rep)
    with pytest.raises(PermissionDenied):
        identity.revoke_mandate(mandate, actor=bystander, reason="恶作剧")
    with pytest.raises(ValidationError) as excinfo:
        identity.revoke_mandate(mandate, actor=rep, reason="  ")
    assert codes(excinfo) == {"reason_required"}
    representative = Mandate.objects.get(enterprise=company, role=MandateRole.REPRESENTATIVE)
    with pytest.raises(ValidationError) as excinfo:
        identity.revoke_mandate(representative, actor=rep, reason="试试")
    assert codes(excinfo) == {"representative"}
    identity.revoke_mandate(mandate, actor=agent, reason="不再代办")  # giving it up
    with pytest.raises(ValidationError) as excinfo:
        identity.revoke_mandate(mandate, actor=rep, reason="再撤一次")
    assert codes(excinfo) == {"already_revoked"}


# --- switching --------------------------------------------------------------------------------

def test_switch_is_refused_without_a_live_mandate(rep: Any, company: EnterpriseAccount) -> None:
    stranger = citizen("stranger")
    request = request_for(stranger)
    with pytest.raises(ValidationError) as excinfo:
        identity.switch_identity(request, company.credit_code)
    assert codes(excinfo) == {"no_mandate"}
    assert identity.current_acting(fresh(request)) is None
    assert events("identity.identity_switched")[0].detail["refused"] is True


def test_switch_there_and_back(rep: Any, company: EnterpriseAccount) -> None:
    request = request_for(rep)
    acting = identity.switch_identity(request, company.credit_code)
    assert acting is not None and acting.is_representative
    assert set(acting.scopes) == set(ent.SCOPES)
    assert identity.current_acting(fresh(request)).credit_code == company.credit_code
    assert identity.switch_identity(fresh(request), "") is None
    assert identity.current_acting(fresh(request)) is None
    assert [e.detail["to"] for e in events("identity.identity_switched")] == [
        "", company.credit_code]


def test_switch_needs_a_session(rep: Any, company: EnterpriseAccount) -> None:
    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[assignment]
    with pytest.raises(PermissionDenied):
        identity.switch_identity(request, company.credit_code)


def test_acting_for_session_serves_callers_without_a_request(rep: Any,
                                                             company: EnterpriseAccount) -> None:
    request = request_for(rep, acting_for=company.credit_code)
    session = identity.current_session(request)
    assert identity.acting_for_session(session).name == company.name
    assert identity.acting_for_session(None) is None


def test_has_scope_rejects_unknown_scopes(rep: Any) -> None:
    with pytest.raises(ValueError, match="unknown"):
        identity.has_scope(request_for(rep), "fly")
