"""The credit platform's services: 双公示 records, red and black lists with their expiry,
objections and repair, the credit check and the risk classes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.enablement.ledger import service as ledger
from yiwang.support.credit import service
from yiwang.support.credit.testing import black, make_credit, penalty

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    return make_credit()


def _ledger_types() -> list[str]:
    return [e.entry_type for e in ledger.entries("main")]


# --- 双公示 -------------------------------------------------------------------------------

def test_a_record_without_legal_basis_is_refused_and_nothing_is_saved(people: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        service.publish_record(service.RecordInput(
            kind="penalty", code=people["enterprise"].credit_code, name="示例市湖畔餐饮有限公司",
            doc_no="示市监罚〔2026〕9号", decided_on=timezone.localdate(), legal_basis="  ",
            content="罚款", categories=["罚款"], facts="x", fine_wan="1", severity="general"),
            authority_code="scjg")
    assert "legal_basis" in caught.value.message_dict
    assert "法律依据" in caught.value.message_dict["legal_basis"][0]
    assert not service.Record.objects.exists()
    assert not service.Subject.objects.exists()  # not even the subject is half-written


def test_every_field_gets_its_own_message(people: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        service.publish_record(service.RecordInput(
            kind="penalty", code="123", name="", doc_no="", decided_on=timezone.localdate()
            + timedelta(days=1), legal_basis="依据", content="罚款", categories=["打板子"],
            fine_wan="lots", severity="?"), authority_code="scjg")
    assert {"code", "doc_no", "decided_on", "categories", "facts", "severity",
            "fine_wan"} <= set(caught.value.message_dict)


def test_a_penalty_is_published_for_its_period_then_not(people: Any) -> None:
    code = people["enterprise"].credit_code
    decided = timezone.localdate() - timedelta(days=10)
    record = penalty(code, "示例市湖畔餐饮有限公司", decided_on=decided)
    assert record.publish_until is not None
    assert record.publish_until > decided + timedelta(days=360)
    assert service.public_records().filter(pk=record.pk).exists()
    assert service.public_records(record.publish_until).filter(pk=record.pk).exists()
    after = record.publish_until + timedelta(days=1)
    assert not service.public_records(after).filter(pk=record.pk).exists()
    assert "credit.record_published" in _ledger_types()
    assert AuditEvent.objects.filter(action="credit.record_published").count() == 1


def test_the_same_decision_twice_is_refused(people: Any) -> None:
    code = people["enterprise"].credit_code
    penalty(code, "示例市湖畔餐饮有限公司")
    with pytest.raises(ValidationError) as caught:
        penalty(code, "示例市湖畔餐饮有限公司")
    assert "doc_no" in caught.value.message_dict
    assert service.Record.objects.count() == 1


def test_a_persons_record_is_masked_in_publicity(people: Any) -> None:
    record = penalty(people["citizen"].id_number, "王五")
    fields = service.public_fields(record)
    assert fields["name"] == "王*"
    assert people["citizen"].id_number not in str(fields)
    assert fields["code"].count("*") >= 8
    assert record.subject.name == "王五"  # kept, encrypted


# --- lists and expiry -----------------------------------------------------------------------

def test_a_listing_needs_a_legal_basis_and_a_decision(people: Any) -> None:
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        service.list_subject(service.ListingInput(
            list_type="black", list_name="严重违法失信主体名单",
            code=people["enterprise"].credit_code, name="示例市湖畔餐饮有限公司", reason="x",
            legal_basis="", decision_no="", decided_on=today, publish_from=today,
            expires_on=today), authority_code="scjg")
    assert {"legal_basis", "decision_no", "expires_on"} <= set(caught.value.message_dict)
    assert not service.ListEntry.objects.exists()


def test_a_black_list_entry_disappears_from_publicity_on_its_expiry_date(people: Any) -> None:
    today = timezone.localdate()
    entry = black(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司",
                  publish_from=today - timedelta(days=400), expires_on=today + timedelta(days=1))
    assert service.public_entries(today).filter(pk=entry.pk).exists()
    expiry = today + timedelta(days=1)
    assert not service.public_entries(expiry).filter(pk=entry.pk).exists()  # before any job
    assert service.expire_entries(today) == 0  # not yet
    assert service.expire_entries(expiry) == 1
    entry.refresh_from_db()
    assert entry.publication == service.Publication.REMOVED
    assert entry.removed_on == expiry
    assert "credit.delisted" in _ledger_types()
    assert service.expire_entries(expiry) == 0  # once


# --- objections and repair ------------------------------------------------------------------

def test_an_objection_suspends_publication_until_it_is_decided(people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司")
    dispute = service.file_objection(people["citizen"], record, statement="罚款金额有误。")
    record.refresh_from_db()
    assert record.publication == service.Publication.SUSPENDED
    assert not service.public_records().filter(pk=record.pk).exists()
    service.decide_dispute(people["officer"], dispute, upheld=False, note="经核实无误。")
    record.refresh_from_db()
    assert record.publication == service.Publication.PUBLISHED
    assert service.public_records().filter(pk=record.pk).exists()
    assert {"credit.objection_filed", "credit.objection_decided"} <= set(_ledger_types())


def test_an_upheld_objection_revokes_the_entry(people: Any) -> None:
    today = timezone.localdate()
    entry = black(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司",
                  publish_from=today, expires_on=today + timedelta(days=365))
    dispute = service.file_objection(people["citizen"], entry, statement="认定主体错误。")
    with pytest.raises(ValidationError):  # one pending objection at a time
        service.file_objection(people["citizen"], entry, statement="再说一遍。")
    decided = service.decide_dispute(people["reviewer"], dispute, upheld=True,
                                     note="经核实,认定主体错误,予以移出。")
    assert decided.state == service.DisputeState.UPHELD
    entry.refresh_from_db()
    assert entry.publication == service.Publication.REMOVED
    assert not service.public_entries().filter(pk=entry.pk).exists()


def test_only_the_subject_may_object(people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司")
    with pytest.raises(ValidationError) as caught:
        service.file_objection(people["other"], record, statement="不是我。")
    assert caught.value.code == "forbidden"
    record.refresh_from_db()
    assert record.publication == service.Publication.PUBLISHED


def test_another_departments_reviewer_cannot_decide(people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司")
    dispute = service.file_objection(people["citizen"], record, statement="有误。")
    with pytest.raises(ValidationError) as caught:
        service.decide_dispute(people["water"], dispute, upheld=True, note="越权。")
    assert caught.value.code == "forbidden"
    dispute.refresh_from_db()
    assert dispute.state == service.DisputeState.PENDING


def test_repair_waits_for_the_minimum_period_then_ends_publicity(people: Any) -> None:
    code = people["enterprise"].credit_code
    fresh = penalty(code, "示例市湖畔餐饮有限公司", doc_no="罚1")
    with pytest.raises(ValidationError) as caught:
        service.file_repair(people["citizen"], fresh, statement="已改正。",
                            corrections="已缴纳罚款。", commitment=True)
    assert caught.value.code == "too_early"
    old = penalty(code, "示例市湖畔餐饮有限公司", doc_no="罚2",
                  decided_on=timezone.localdate() - timedelta(days=120))
    with pytest.raises(ValidationError) as caught:
        service.file_repair(people["citizen"], old, statement="已改正。",
                            corrections="已缴纳罚款。", commitment=False)
    assert "commitment" in caught.value.message_dict
    dispute = service.file_repair(people["citizen"], old, statement="已改正。",
                                  corrections="已缴纳罚款并完成整改。", commitment=True)
    old.refresh_from_db()
    assert old.publication == service.Publication.PUBLISHED  # repair does not suspend
    service.decide_dispute(people["officer"], dispute, upheld=True, note="整改到位。")
    old.refresh_from_db()
    assert old.publication == service.Publication.REPAIRED
    assert not service.public_records().filter(pk=old.pk).exists()
    assert "credit.repair_decided" in _ledger_types()


def test_two_reviewers_one_wins(people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司")
    dispute = service.file_objection(people["citizen"], record, statement="有误。")
    stale = service.Dispute.objects.get(pk=dispute.pk)
    service.decide_dispute(people["officer"], dispute, upheld=False, note="无误。")
    with pytest.raises(ValidationError) as caught:
        service.decide_dispute(people["reviewer"], stale, upheld=True, note="有误。")
    assert caught.value.code == "conflict"
    record.refresh_from_db()
    assert record.publication == service.Publication.PUBLISHED


# --- credit check and risk classes ----------------------------------------------------------

def test_the_check_flags_a_black_listed_party_and_is_audited(people: Any) -> None:
    code = people["enterprise"].credit_code
    clean = service.check(code, purpose="application:1", actor=people["officer"])
    assert not clean.code_known and not clean.flagged
    today = timezone.localdate()
    black(code, "示例市湖畔餐饮有限公司", publish_from=today, expires_on=today + timedelta(days=90))
    found = service.check(code, purpose="application:2", actor=people["officer"])
    assert found.flagged
    assert found.black[0]["legal_basis"].startswith("《市场监督管理")
    assert found.risk_class == "D"
    events = AuditEvent.objects.filter(action="credit.checked").order_by("id")
    assert [e.detail["flagged"] for e in events] == [False, True]


def test_risk_classes_follow_the_rules_and_new_rules_apply(people: Any) -> None:
    code = people["enterprise"].credit_code
    penalty(code, "示例市湖畔餐饮有限公司", doc_no="罚1")
    subject = service.find_subject(code)
    assert service.classify(subject)[0] == "B"
    penalty(code, "示例市湖畔餐饮有限公司", doc_no="罚2")
    assert service.classify(subject)[0] == "C"
    person = penalty(people["citizen"].id_number, "王五", doc_no="罚3", fine_wan="0.1")
    with pytest.raises(ValidationError) as caught:
        service.save_rules([{"class": "E", "when": {"exec": ["rm"]}}], default_class="A",
                           note="", actor=people["reviewer"])
    assert len(caught.value.message_dict["rules"]) >= 2
    service.save_rules([{"class": "D", "when": {">=": [{"var": "penalties_1y"}, 1]},
                         "label": "从严"}], default_class="B", note="从严",
                       actor=people["reviewer"])
    counts = service.classify_all()
    assert counts["D"] == 2
    assert service.Subject.objects.get(pk=person.subject_id).risk_class == "D"
    assert service.current_rules().version == 1  # the defaults were version 0, unsaved


def test_publicity_is_searchable_until_an_objection_suspends_it(people: Any) -> None:
    from yiwang.support.search import service as search

    record = penalty(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司")
    found = search.search("湖畔餐饮", kind="credit")
    assert [i["url"] for i in found.items] == [f"/credit/records/{record.pk}/"]
    service.file_objection(people["citizen"], record, statement="有误。")
    assert search.search("湖畔餐饮", kind="credit").total == 0


def test_an_objection_does_not_hide_a_black_listing_from_the_officer(people: Any) -> None:
    today = timezone.localdate()
    code = people["enterprise"].credit_code
    entry = black(code, "示例市湖畔餐饮有限公司", publish_from=today,
                  expires_on=today + timedelta(days=90))
    dispute = service.file_objection(people["citizen"], entry, statement="有误。")
    found = service.check(code, purpose="application:3", actor=people["officer"])
    assert found.flagged and found.black[0]["under_objection"]
    assert found.risk_class == "D"
    service.decide_dispute(people["officer"], dispute, upheld=False, note="核实无误。")
    with pytest.raises(ValidationError) as caught:  # not again and again
        service.file_objection(people["citizen"], entry, statement="还是有误。")
    assert caught.value.code == "decided"
    entry.refresh_from_db()
    assert entry.publication == service.Publication.PUBLISHED


def test_an_objection_to_a_record_revoked_meanwhile_changes_nothing(people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, "示例市湖畔餐饮有限公司")
    stale = service.Record.objects.get(pk=record.pk)
    service.revoke_record(record, reason="决定已撤销", actor=people["officer"])
    with pytest.raises(ValidationError) as caught:
        service.file_objection(people["citizen"], stale, statement="有误。")
    assert caught.value.code == "ended"
    record.refresh_from_db()
    assert record.publication == service.Publication.REVOKED
    assert not service.Dispute.objects.exists()


def test_search_follows_publicity_dates(people: Any) -> None:
    from yiwang.support.search import service as search

    today = timezone.localdate()
    service.list_subject(service.ListingInput(
        list_type="black", list_name="严重违法失信主体名单",
        code=people["enterprise"].credit_code, name="示例市湖畔餐饮有限公司",
        reason="提供虚假材料", legal_basis="《市场监督管理严重违法失信名单管理办法》第九条",
        decision_no="示市监信〔2026〕7号", decided_on=today,
        publish_from=today + timedelta(days=1), expires_on=today + timedelta(days=30)),
        authority_code="scjg")
    assert search.search("湖畔餐饮", kind="credit").total == 0  # not yet published
    assert service.sync_index(today + timedelta(days=1)) == 1  # the job, tomorrow
    assert search.search("湖畔餐饮", kind="credit").total == 1
