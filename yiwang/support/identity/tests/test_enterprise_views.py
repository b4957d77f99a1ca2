"""The portal's enterprise screens: who sees what, clear refusals, and the switcher."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.support.identity import service as identity
from yiwang.support.identity.models import AccountSession, Mandate
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.identity.tests.test_enterprise_helpers import (
    citizen,
    new_credit_code,
    registry_enterprise,
)

pytestmark = pytest.mark.django_db

HOME = "/account/enterprise/"
REGISTER = "/account/enterprise/register/"
SWITCH = "/account/enterprise/switch/"
SOON = (date.today() + timedelta(days=30)).isoformat()


def text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def rep() -> Any:
    return citizen("rep", real_name="王法人")


@pytest.fixture
def company(rep: Any) -> Any:
    found = registry_enterprise(rep, name="甲公司")
    return identity.register_enterprise_account(rep, found.credit_code, actor=rep)


@pytest.fixture
def other_company() -> Any:
    other = citizen("rep_b", real_name="赵法人")
    found = registry_enterprise(other, name="乙公司")
    return identity.register_enterprise_account(other, found.credit_code, actor=other)


def grant(company: Any, rep: Any, login: str, scopes: list[str]) -> Mandate:
    return identity.grant_mandate(company, agent_login=login, scopes=scopes,
                                  expires_at=timezone.now() + timedelta(days=30), actor=rep)


def test_anonymous_visitors_are_sent_to_sign_in(public_client, company) -> None:
    paths = [HOME, REGISTER, f"{HOME}{company.credit_code}/",
             f"{HOME}{company.credit_code}/grant/"]
    for path in paths:
        response = public_client.get(path)
        assert response.status_code == 302, path
        assert "login" in response["Location"] and "next=" in response["Location"]
    assert public_client.post(SWITCH, {"credit_code": company.credit_code}).status_code == 302


def test_my_enterprises_lists_only_mine(public_client, rep, company, other_company) -> None:
    sign_in_client(public_client, rep)
    page = text(public_client.get(HOME))
    assert "甲公司" in page and "乙公司" not in page
    assert "以甲公司身份办事" in page  # the switcher
    assert "以个人身份" in page


@pytest.mark.parametrize(("case", "message"), [
    ("checksum", "校验位错误"),
    ("unknown", "法人库中没有统一社会信用代码为"),
    ("cancelled", "登记状态为“注销”"),
    ("not_mine", "您不是 丙公司 登记的法定代表人"),
])
def test_register_explains_each_refusal(public_client, rep, case: str, message: str) -> None:
    if case == "checksum":
        code = new_credit_code()
        code = code[:-1] + ("0" if code[-1] != "0" else "1")
    elif case == "unknown":
        code = generate_credit_code("110101")
    elif case == "cancelled":
        code = registry_enterprise(rep, name="丙公司", status="cancelled").credit_code
    else:
        code = registry_enterprise(None, name="丙公司").credit_code
    sign_in_client(public_client, rep)
    response = public_client.post(REGISTER, {"credit_code": code})
    assert response.status_code == 400
    assert message in text(response)
    assert 'aria-invalid="true"' in text(response)


def test_register_opens_the_account(public_client, rep) -> None:
    found = registry_enterprise(rep, name="丁公司")
    sign_in_client(public_client, rep)
    response = public_client.post(REGISTER, {"credit_code": found.credit_code})
    assert response.status_code == 302
    assert response["Location"] == f"{HOME}{found.credit_code}/"
    page = text(public_client.get(response["Location"]))
    assert "已开通 丁公司 的法人账户" in page and "授权经办人" in page


def test_representative_grants_and_revokes(public_client, rep, company) -> None:
    agent = citizen("agent")
    sign_in_client(public_client, rep)
    grant_url = f"{HOME}{company.credit_code}/grant/"
    assert public_client.get(grant_url).status_code == 200
    expires = (timezone.localdate() + timedelta(days=90)).isoformat()
    response = public_client.post(grant_url, {"agent_login": "agent",
                                              "scopes": ["apply", "query"],
                                              "expires_on": expires})
    assert response.status_code == 302
    mandate = identity.mandate_of(agent, company)
    assert mandate is not None and mandate.scopes == ["apply", "query"]
    assert timezone.localtime(mandate.expires_at).date().isoformat() == expires
    page = text(public_client.get(f"{HOME}{company.credit_code}/"))
    assert "agent" in page and "办事申报、查询" in page

    revoke_url = f"{HOME}{company.credit_code}/mandates/{mandate.pk}/revoke/"
    assert public_client.get(revoke_url).status_code == 200
    assert public_client.post(revoke_url, {"reason": ""}).status_code == 400
    assert public_client.post(revoke_url, {"reason": "离职"}).status_code == 302
    assert identity.mandate_of(agent, company) is None


@pytest.mark.parametrize(("data", "message"), [
    ({"agent_login": "agent", "expires_on": "2099-01-01", "scopes": ["query"]}, "最长三年"),
    ({"agent_login": "agent", "expires_on": "", "scopes": ["query"]}, "请填写授权的到期日期"),
    ({"agent_login": "agent", "expires_on": "2020-01-01", "scopes": ["query"]}, "晚于现在"),
    ({"agent_login": "agent", "expires_on": "tomorrow", "scopes": ["query"]}, "年-月-日"),
    ({"agent_login": "agent", "scopes": [], "expires_on": SOON}, "至少选择一项"),
    ({"agent_login": "agent", "scopes": ["fly"], "expires_on": SOON}, "授权范围无效"),
    ({"agent_login": "", "scopes": ["query"], "expires_on": SOON}, "请填写经办人的用户名"),
    ({"agent_login": "nobody", "scopes": ["query"], "expires_on": SOON}, "没有找到"),
    ({"agent_name": "某人", "agent_id_number": "110101199003077778", "scopes": ["query"],
      "expires_on": SOON}, "校验位错误"),
])
def test_grant_form_says_what_is_wrong(public_client, rep, company, data, message) -> None:
    citizen("agent")
    sign_in_client(public_client, rep)
    response = public_client.post(f"{HOME}{company.credit_code}/grant/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Mandate.objects.filter(role="agent").exists()


def test_a_representative_cannot_see_or_manage_another_enterprise(public_client, rep, company,
                                                                 other_company) -> None:
    their_agent = citizen("their_agent")
    mandate = grant(other_company, other_company.representative, "their_agent", ["query"])
    sign_in_client(public_client, rep)
    base = f"{HOME}{other_company.credit_code}/"
    assert public_client.get(base).status_code == 404
    assert public_client.get(f"{base}grant/").status_code == 404
    response = public_client.post(f"{base}grant/", {"agent_login": "their_agent",
                                                    "scopes": ["query"],
                                                    "expires_on": SOON})
    assert response.status_code == 404
    assert public_client.post(f"{base}mandates/{mandate.pk}/revoke/",
                              {"reason": "x"}).status_code == 404
    # Nor through its own enterprise's URLs with the other's mandate id.
    assert public_client.post(f"{HOME}{company.credit_code}/mandates/{mandate.pk}/revoke/",
                              {"reason": "x"}).status_code == 404
    assert identity.mandate_of(their_agent, other_company) is not None


def test_an_agent_without_manage_cannot_grant(public_client, rep, company) -> None:
    agent = citizen("agent")
    citizen("friend")
    grant(company, rep, "agent", ["apply", "query"])
    sign_in_client(public_client, agent)
    page = text(public_client.get(f"{HOME}{company.credit_code}/"))
    assert "放弃授权" in page and "授权经办人" not in page
    grant_url = f"{HOME}{company.credit_code}/grant/"
    assert public_client.get(grant_url).status_code == 403
    response = public_client.post(grant_url, {"agent_login": "friend", "scopes": ["query"],
                                              "expires_on": SOON})
    assert response.status_code == 403
    representative = Mandate.objects.get(enterprise=company, role="representative")
    revoke = f"{HOME}{company.credit_code}/mandates/{representative.pk}/revoke/"
    assert public_client.post(revoke, {"reason": "x"}).status_code == 403


def test_a_managing_agent_can_grant(public_client, rep, company) -> None:
    manager = citizen("manager")
    citizen("friend")
    grant(company, rep, "manager", ["manage", "query"])
    sign_in_client(public_client, manager)
    response = public_client.post(f"{HOME}{company.credit_code}/grant/", {
        "agent_login": "friend", "scopes": ["query"],
        "expires_on": (timezone.localdate() + timedelta(days=5)).isoformat()})
    assert response.status_code == 302


def test_switcher_switches_and_falls_back_after_revocation(public_client, rep, company
                                                           ) -> None:
    agent = citizen("agent")
    mandate = grant(company, rep, "agent", ["apply"])
    session = sign_in_client(public_client, agent)
    response = public_client.post(SWITCH, {"credit_code": company.credit_code,
                                           "next": "/account/enterprise/"})
    assert response.status_code == 302 and response["Location"] == "/account/enterprise/"
    session.refresh_from_db()
    assert session.acting_for == company.credit_code
    assert "您正在以 甲公司 的身份办事" in text(public_client.get(HOME))

    identity.revoke_mandate(mandate, actor=rep, reason="离职")
    page = text(public_client.get(HOME))
    assert "您正在以个人身份办事" in page and "甲公司" not in page
    assert AccountSession.objects.get(pk=session.pk).acting_for == ""


def test_switch_refuses_an_enterprise_without_mandate(public_client, company, other_company
                                                      ) -> None:
    stranger = citizen("stranger")
    session = sign_in_client(public_client, stranger)
    response = public_client.post(SWITCH, {"credit_code": other_company.credit_code},
                                  follow=True)
    assert "您没有代表该企业办事的有效授权" in text(response)
    session.refresh_from_db()
    assert session.acting_for == ""


def test_switch_ignores_foreign_next_urls(public_client, rep, company) -> None:
    sign_in_client(public_client, rep)
    response = public_client.post(SWITCH, {"credit_code": "", "next": "https://evil.example/"})
    assert response["Location"] == HOME


def test_english_pages(public_client, rep, company) -> None:
    sign_in_client(public_client, rep)
    response = public_client.get(f"/en{HOME}")
    assert response.status_code == 200
