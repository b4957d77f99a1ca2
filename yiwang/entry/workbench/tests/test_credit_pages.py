"""The officials' credit pages as they use them: the market regulator enters a penalty
through the form (and is told, field by field, what is missing), lists and takes off a
black-listed enterprise, decides an objection from its queue; the water bureau sees none of
the regulator's records or disputes; the credit department edits the risk rules; an officer
checks a party before an approval. A citizen gets none of these pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.credit import service as credit
from yiwang.support.credit.testing import black, make_credit, penalty
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
NAME = "示例市湖畔餐饮有限公司"


@pytest.fixture
def people() -> dict[str, Any]:
    return make_credit()


def _text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _field(html: str, name: str) -> str:
    """The markup of one form field (its wrapper, label, message and input)."""
    found = re.search(rf'data-testid="field-{name}".*?</(div|fieldset)>', html, re.S)
    assert found, name
    return found.group(0)


def _penalty_form(code: str, **changes: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "kind": "penalty", "authority": "scjg", "code": code, "name": NAME,
        "representative": "王五", "doc_name": "行政处罚决定书", "doc_no": "示市监罚〔2026〕88号",
        "decided_on": timezone.localdate().isoformat(),
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条", "content": "罚款一万元",
        "penalty_categories": ["警告", "罚款"], "violation_type": "食品安全",
        "facts": "经营超过保质期的食品。", "fine_wan": "1", "severity": "general",
        "note": "现场检查发现"}
    form.update(changes)
    return form


# --- 双公示 -------------------------------------------------------------------------------

def test_an_officer_enters_a_penalty_through_the_form(internal_client: Any,
                                                     people: Any) -> None:
    code = people["enterprise"].credit_code
    sign_in_client(internal_client, people["officer"])
    blank = _text(internal_client.get("/credit/records/new/"))
    assert '<option value="scjg"' in blank and '<option value="swj"' not in blank
    response = internal_client.post("/credit/records/new/", _penalty_form(code))
    assert response.status_code == 302
    record = credit.Record.objects.get()
    assert response["Location"] == f"/credit/records/{record.pk}/"
    assert (record.authority_code, record.category, str(record.fine_wan.normalize())) == (
        "scjg", "警告;罚款", "1")
    assert record.created_by_id == people["officer"].pk
    assert credit.public_records().filter(pk=record.pk).exists()
    detail = _text(internal_client.get(response["Location"]))
    assert "示市监罚〔2026〕88号" in detail and "已归集" in detail
    assert "经营超过保质期的食品。" in detail and 'data-publication="published"' in detail
    assert "罚款金额(万元)</dt><dd>1</dd>" in detail
    assert "王五" not in detail  # the representative is shown masked
    listing = _text(internal_client.get("/credit/records/?kind=penalty&q=88号"))
    assert f'data-record="{record.pk}"' in listing and code in listing
    assert "没有双公示信息" in _text(internal_client.get("/credit/records/?kind=licensing"))


def test_a_licensing_decision_uses_the_licensing_categories(internal_client: Any,
                                                            people: Any) -> None:
    until = timezone.localdate() + timedelta(days=3 * 365)
    sign_in_client(internal_client, people["officer"])
    form = _penalty_form(people["enterprise"].credit_code, kind="licensing",
                         doc_no="示市监许〔2026〕5号", content="食品经营许可",
                         licensing_categories=["其他"], licence_name="食品经营许可证",
                         licence_no="JY13399010000001", valid_until=until.isoformat())
    response = internal_client.post("/credit/records/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    record = credit.Record.objects.get()
    assert (record.kind, record.category, record.severity) == ("licensing", "其他", "")
    assert record.publish_until == until  # a licence is published while it is valid


def test_the_lists_take_a_fixed_number_of_queries(internal_client: Any, people: Any) -> None:
    code = people["enterprise"].credit_code

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            _text(internal_client.get(url))
        return len(queries)

    sign_in_client(internal_client, people["officer"])
    first = penalty(code, NAME, doc_no="罚0")
    credit.file_objection(people["citizen"], first, statement="有误。")
    few = count("/credit/records/"), count("/credit/disputes/")
    for n in range(1, 6):
        record = penalty(people["other"].id_number if n % 2 else code, "赵六" if n % 2
                         else NAME, doc_no=f"罚{n}")
        credit.file_objection(people["other"] if n % 2 else people["citizen"], record,
                              statement="有误。")
    assert (count("/credit/records/"), count("/credit/disputes/")) == few


def test_a_persons_penalty_is_listed_masked(internal_client: Any, people: Any) -> None:
    number = people["citizen"].id_number
    sign_in_client(internal_client, people["officer"])
    response = internal_client.post("/credit/records/new/", _penalty_form(
        number, name="王五", representative=""))
    assert response.status_code == 302
    for page in (_text(internal_client.get("/credit/records/")),
                 _text(internal_client.get(response["Location"]))):
        assert "王*" in page
        assert "王五" not in page and number not in page


def test_a_form_without_legal_basis_is_refused_and_keeps_what_was_typed(
        internal_client: Any, people: Any) -> None:
    sign_in_client(internal_client, people["officer"])
    response = internal_client.post("/credit/records/new/", _penalty_form(
        people["enterprise"].credit_code, legal_basis="  ", penalty_categories=[]))
    assert response.status_code == 400
    html = response.content.decode()
    basis = _field(html, "legal_basis")
    assert "没有法律依据的信用信息不能归集" in basis and 'aria-invalid="true"' in basis
    assert 'aria-describedby="f-legal_basis-hint f-legal_basis-error"' in basis
    categories = _field(html, "penalty_categories")
    assert "请选择至少一个类别" in categories
    assert "请选择至少一个类别" not in _field(html, "licensing_categories")
    assert 'href="#f-legal_basis"' in html  # the summary at the top links to the field
    assert 'value="示市监罚〔2026〕88号"' in html and "经营超过保质期的食品。" in html
    assert not credit.Record.objects.exists() and not credit.Subject.objects.exists()


def test_a_malformed_date_is_a_field_error_not_a_crash(internal_client: Any,
                                                      people: Any) -> None:
    sign_in_client(internal_client, people["officer"])
    response = internal_client.post("/credit/records/new/", _penalty_form(
        people["enterprise"].credit_code, decided_on="2026-13-45", valid_until="明天"))
    assert response.status_code == 400
    html = response.content.decode()
    for name in ("decided_on", "valid_until"):
        assert "请按“年-月-日”填写日期" in _field(html, name)
    assert "年-月-日" not in _field(html, "valid_from")
    assert not credit.Record.objects.exists()
    listing = internal_client.post("/credit/lists/new/", {
        "list_type": "black", "list_name": "严重违法失信主体名单", "authority": "scjg",
        "code": people["enterprise"].credit_code, "name": NAME, "reason": "x",
        "legal_basis": "y", "decision_no": "z", "decided_on": "2026/1/1",
        "publish_from": "", "expires_on": "9999-99-99"})
    assert listing.status_code == 400
    assert "请按“年-月-日”填写日期" in _field(listing.content.decode(), "expires_on")
    assert not credit.ListEntry.objects.exists()


def test_another_department_neither_sees_nor_reaches_the_record(internal_client: Any,
                                                                people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, NAME)
    sign_in_client(internal_client, people["water"])
    assert f'data-record="{record.pk}"' not in _text(internal_client.get("/credit/records/"))
    assert internal_client.get(f"/credit/records/{record.pk}/").status_code == 404
    assert internal_client.post(f"/credit/records/{record.pk}/revoke/",
                                {"reason": "越权"}).status_code == 404
    record.refresh_from_db()
    assert record.publication == credit.Publication.PUBLISHED
    # nor may it report a decision in the regulator's name
    foreign = internal_client.post("/credit/records/new/", _penalty_form(
        people["enterprise"].credit_code, doc_no="示水罚〔2026〕1号"))
    assert foreign.status_code == 400 and "只能以您所在的部门名义报送" in foreign.content.decode()
    assert credit.Record.objects.count() == 1


def test_the_authority_revokes_a_record_with_a_reason(internal_client: Any,
                                                      people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, NAME)
    sign_in_client(internal_client, people["officer"])
    url = f"/credit/records/{record.pk}/"
    assert 'data-testid="revoke-form"' in _text(internal_client.get(url))
    empty = internal_client.post(f"{url}revoke/", {"reason": " ",
                                                   "expected_version": record.row_version},
                                 follow=True)
    assert "请写明撤销原因" in empty.content.decode()
    stale = internal_client.post(f"{url}revoke/", {"reason": "报送有误",
                                                   "expected_version": record.row_version - 1},
                                 follow=True)
    assert "刚被其他人处理过" in stale.content.decode()
    record.refresh_from_db()
    assert record.publication == credit.Publication.PUBLISHED
    done = internal_client.post(f"{url}revoke/", {"reason": "报送有误",
                                                  "expected_version": record.row_version},
                                follow=True)
    page = _text(done)
    assert 'data-publication="revoked"' in page and 'data-testid="revoke-form"' not in page
    assert not credit.public_records().filter(pk=record.pk).exists()


def test_a_citizen_and_officials_without_the_right_are_refused(internal_client: Any,
                                                               people: Any) -> None:
    sign_in_client(internal_client, people["citizen"])  # represents the enterprise
    for url in ("/credit/records/", "/credit/records/new/", "/credit/lists/", "/credit/disputes/",
                "/credit/risk/", "/credit/check/"):
        assert internal_client.get(url).status_code == 403, url
    sign_in_client(internal_client, people["water"])  # publishes and reviews; no more
    for url in ("/credit/lists/", "/credit/risk/", "/credit/check/"):
        assert internal_client.get(url).status_code == 403, url
    home = _text(internal_client.get("/"))
    assert 'href="/credit/"' in home  # the module in the side navigation
    nav = _text(internal_client.get("/credit/records/"))
    assert 'href="/credit/disputes/"' in nav and 'href="/credit/check/"' not in nav


# --- red and black lists ------------------------------------------------------------------

def test_an_enterprise_is_black_listed_then_taken_off(internal_client: Any,
                                                      people: Any) -> None:
    today = timezone.localdate()
    code = people["enterprise"].credit_code
    sign_in_client(internal_client, people["officer"])
    form = {"list_type": "black", "list_name": "严重违法失信主体名单", "authority": "scjg",
            "code": code, "name": NAME, "reason": "提供虚假材料取得许可",
            "legal_basis": "《市场监督管理严重违法失信名单管理办法》第九条",
            "decision_no": "示市监信〔2026〕7号", "decided_on": today.isoformat(),
            "publish_from": today.isoformat(),
            "expires_on": (today + timedelta(days=365)).isoformat(), "repairable": "yes"}
    no_basis = internal_client.post("/credit/lists/new/", {**form, "legal_basis": ""})
    assert no_basis.status_code == 400
    assert "没有认定依据不能列入名单" in _field(no_basis.content.decode(), "legal_basis")
    response = internal_client.post("/credit/lists/new/", form)
    assert response.status_code == 302
    entry = credit.ListEntry.objects.get()
    assert entry.repairable and entry.authority_code == "scjg"
    assert credit.public_entries().filter(pk=entry.pk).exists()
    listing = _text(internal_client.get("/credit/lists/?list_type=black"))
    assert f'data-entry="{entry.pk}"' in listing
    assert f'data-entry="{entry.pk}"' not in _text(
        internal_client.get("/credit/lists/?list_type=red"))
    url = f"/credit/lists/{entry.pk}/"
    stale = internal_client.post(f"{url}remove/", {"reason": "认定决定被撤销",
                                                   "expected_version": entry.row_version + 3},
                                 follow=True)
    assert "刚被其他人处理过" in stale.content.decode()
    removed = internal_client.post(f"{url}remove/", {"reason": "认定决定被撤销",
                                                     "expected_version": entry.row_version},
                                   follow=True)
    assert 'data-publication="removed"' in _text(removed)
    assert not credit.public_entries().filter(pk=entry.pk).exists()


# --- objections ---------------------------------------------------------------------------

def test_the_objection_queue_and_its_decision(internal_client: Any, people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, NAME)
    dispute = credit.file_objection(people["citizen"], record,
                                    statement="罚款金额有误,应为五千元。")
    sign_in_client(internal_client, people["water"])
    assert dispute.number not in _text(internal_client.get("/credit/disputes/"))
    assert internal_client.get(f"/credit/disputes/{dispute.number}/").status_code == 404
    assert internal_client.post(f"/credit/disputes/{dispute.number}/decide/", {
        "upheld": "yes", "note": "越权"}).status_code == 404
    sign_in_client(internal_client, people["officer"])
    queue = _text(internal_client.get("/credit/disputes/"))
    assert f'data-dispute="{dispute.number}"' in queue and record.doc_no in queue
    assert dispute.number not in _text(internal_client.get("/credit/disputes/?state=upheld"))
    url = f"/credit/disputes/{dispute.number}/"
    detail = _text(internal_client.get(url))
    assert "罚款金额有误,应为五千元。" in detail and 'data-publication="suspended"' in detail
    read = audit.search(audit.AuditFilter(action="personal_data.read")).get()
    assert read.detail == {"fields": ["statement"], "purpose": "credit.dispute"}
    assert f'name="expected_version" value="{dispute.row_version}"' in detail
    no_note = internal_client.post(f"{url}decide/", {
        "upheld": "yes", "note": "", "expected_version": dispute.row_version}, follow=True)
    assert "请填写办理意见" in no_note.content.decode()
    stale = internal_client.post(f"{url}decide/", {
        "upheld": "yes", "note": "经核实有误。", "expected_version": dispute.row_version + 1},
        follow=True)
    assert "刚被其他人处理过" in stale.content.decode()
    record.refresh_from_db()
    assert record.publication == credit.Publication.SUSPENDED
    decided = internal_client.post(f"{url}decide/", {
        "upheld": "yes", "note": "经核实金额有误,撤销后重新作出。",
        "expected_version": dispute.row_version}, follow=True)
    page = _text(decided)
    assert 'data-state="upheld"' in page and 'data-testid="decide-form"' not in page
    record.refresh_from_db()
    assert record.publication == credit.Publication.REVOKED
    assert dispute.number not in _text(internal_client.get("/credit/disputes/"))  # pending
    assert dispute.number in _text(internal_client.get("/credit/disputes/?state=all"))


def test_the_credit_department_reviews_every_department(internal_client: Any,
                                                         people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, NAME, authority="swj",
                     doc_no="示水罚〔2026〕3号")
    dispute = credit.file_objection(people["citizen"], record, statement="有误。")
    sign_in_client(internal_client, people["reviewer"])
    assert dispute.number in _text(internal_client.get("/credit/disputes/"))
    response = internal_client.post(f"/credit/disputes/{dispute.number}/decide/", {
        "upheld": "no", "note": "经核实无误。", "expected_version": dispute.row_version})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.publication == credit.Publication.PUBLISHED


# --- risk classes and the credit check -------------------------------------------------------

def test_the_risk_rules_are_edited_and_applied(internal_client: Any, people: Any) -> None:
    penalty(people["enterprise"].credit_code, NAME)
    sign_in_client(internal_client, people["reviewer"])
    page = _text(internal_client.get("/credit/risk/"))
    assert "默认规则" in page and "penalties_3y" in page and "近 3 年行政处罚次数" in page
    rules = [{"class": "D", "label": "从严", "when": {">=": [{"var": "penalties_1y"}, 1]}}]
    saved = internal_client.post("/credit/risk/", {
        "rules": json.dumps(rules), "default_class": "B", "note": "从严试行"})
    assert saved.status_code == 302
    current = credit.current_rules()
    assert (current.version, current.default_class, current.note) == (1, "B", "从严试行")
    broken = internal_client.post("/credit/risk/", {"rules": '[{"class": "D",',
                                                    "default_class": "A"})
    assert broken.status_code == 400 and "不是有效的 JSON" in broken.content.decode()
    assert '[{&quot;class&quot;: &quot;D&quot;,' in broken.content.decode()  # kept
    invalid = internal_client.post("/credit/risk/", {
        "rules": json.dumps([{"class": "E", "when": {"exec": ["rm"]}}]),
        "default_class": "A"})
    assert invalid.status_code == 400 and "第 1 条" in invalid.content.decode()
    assert credit.current_rules().version == 1
    classified = internal_client.post("/credit/risk/classify/", follow=True)
    assert "D 类 1 个" in _text(classified)
    assert re.search(r'data-class="D">.*?data-testid="risk-count">1<', classified.content
                     .decode(), re.S)
    assert "risk-bar--D risk-bar--w100" in classified.content.decode()
    # an officer who checks credit reads the page but cannot change the rules
    sign_in_client(internal_client, people["officer"])
    assert 'data-testid="rules-form"' not in _text(internal_client.get("/credit/risk/"))
    assert internal_client.post("/credit/risk/", {"rules": "[]"}).status_code == 403
    assert internal_client.post("/credit/risk/classify/").status_code == 403


def test_the_check_flags_a_black_listed_enterprise(internal_client: Any, people: Any) -> None:
    code = people["enterprise"].credit_code
    today = timezone.localdate()
    black(code, NAME, publish_from=today, expires_on=today + timedelta(days=90))
    sign_in_client(internal_client, people["officer"])
    no_reason = internal_client.post("/credit/check/", {"code": code, "reason": ""})
    assert no_reason.status_code == 400 and "请填写核查事由" in no_reason.content.decode()
    bad = internal_client.post("/credit/check/", {"code": "91330000ABC", "reason": "审批"})
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in _field_check(bad.content.decode())
    page = _text(internal_client.post("/credit/check/", {"code": code.lower(),
                                                         "reason": "办件 2026-001"}))
    assert 'data-flagged="yes"' in page and 'data-testid="credit-black"' in page
    assert "《市场监督管理严重违法失信名单管理办法》第九条" in page
    assert 'data-testid="risk-class"' in page
    events = audit.search(audit.AuditFilter(action="credit.checked"))
    assert [e.detail["purpose"] for e in events] == ["workbench:办件 2026-001"]
    unknown = _text(internal_client.post("/credit/check/", {
        "code": people["other"].id_number, "reason": "监管"}))
    assert 'data-testid="credit-unknown"' in unknown


def _field_check(html: str) -> str:
    found = re.search(r'<input[^>]*id="f-code"[^>]*>', html)
    assert found
    return found.group(0)


def test_the_module_leads_each_official_to_a_page_they_may_use(internal_client: Any,
                                                               people: Any) -> None:
    sign_in_client(internal_client, people["reviewer"])  # the credit office: reviews only
    home = _text(internal_client.get("/"))
    assert 'href="/credit/"' in home
    assert internal_client.get("/credit/")["Location"].endswith("/credit/disputes/")
    sign_in_client(internal_client, people["officer"])
    assert internal_client.get("/credit/")["Location"].endswith("/credit/records/")
