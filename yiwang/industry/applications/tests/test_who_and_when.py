"""Who may file a matter and when a decision may be made: a matter for individuals is not
filed for an enterprise, a licence goes to the kind of holder its type has, a withdrawn
matter's drafts are not submitted, the same bundle is not filed twice while the first is
handled, the approval that issues the licence waits for the fee, and the workbench refuses
a decision posted without the version the official saw."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.models import Application, State
from yiwang.industry.applications.tests.conftest import (
    MATTER,
    form_data,
    plain_png,
    publish_matter,
    submitted,
    upload,
)
from yiwang.industry.applications.tests.test_bundles import bundle  # noqa: F401 (fixture)
from yiwang.industry.services import service as catalogue

pytestmark = pytest.mark.django_db


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.messages)


def test_a_matter_for_individuals_is_not_filed_for_an_enterprise(
        version: Any, other_citizen: Any, enterprise: Any) -> None:
    before = Application.objects.count()
    with pytest.raises(ValidationError) as exc:
        applications.save_draft(other_citizen, MATTER, form_data(other_citizen),
                                acting_for=enterprise.credit_code)
    assert "面向个人的事项" in _messages(exc) and "本人身份" in _messages(exc)
    assert exc.value.error_list[0].code == "applicant_kind"
    assert Application.objects.count() == before  # nothing saved
    # as themself the same person may
    assert applications.save_draft(other_citizen, MATTER, form_data(other_citizen)).pk


def test_an_enterprise_licence_needs_an_enterprise_applicant(
        city: Any, citizen: Any, enterprise: Any) -> None:
    # a matter for legal persons whose approval issues a licence of an enterprise type to
    # the applicant (no holder mapping): a person filing for themself would get a licence
    # that cannot be issued at the decision
    from yiwang.support.licences import service as licences

    ltype = next(t for t in licences.list_types() if t.holder_kind == "enterprise")
    department = (ltype.issuing_departments or ["scjg"])[0]
    matter = catalogue.create_matter(code="339900-scjg-0009", name="企业事项",
                                     department_code=department, audience="legal",
                                     promised_days=5, statutory_days=20, materials=[])
    draft = catalogue.create_draft(matter)
    form = {"version": 1, "components": [
        {"type": "text", "key": "name", "label": "名称", "required": True}]}
    mapping = {k["key"]: "name" for k in (ltype.schema or {}).get("fields", [])
               if k.get("required") and not k.get("holder")}
    catalogue.save_draft(draft, form=form, flow_spec={"version": 1, "steps": [
        {"kind": "task", "id": "review", "name": "审查", "department": "$matter",
         "position": None, "days": 2}]}, licence={"type": ltype.code, "map": mapping})
    catalogue.publish_version(draft)
    with pytest.raises(ValidationError) as exc:
        applications.save_draft(citizen, matter.code, {"name": "x"})
    assert "代表企业办理" in _messages(exc) and ltype.name in _messages(exc)
    # the representative filing for the enterprise may
    app = applications.save_draft(citizen, matter.code, {"name": "x"},
                                  acting_for=enterprise.credit_code)
    assert app.acting_for == enterprise.credit_code


def test_a_draft_of_a_withdrawn_matter_is_not_submitted(version: Any, citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    applications.attach_upload(citizen, app, "id_card", upload(citizen, plain_png()))
    app.refresh_from_db()
    catalogue.unpublish_matter(catalogue.get_matter(MATTER))
    with pytest.raises(ValidationError) as exc:
        applications.submit_application(citizen, app)
    assert "已停止网上办理" in _messages(exc) and "公安局" in _messages(exc)
    app.refresh_from_db()
    assert (app.state, app.number or "", app.tasks.count()) == (State.DRAFT, "", 0)


def test_a_draft_of_an_earlier_version_is_still_submitted_on_its_version(
        version: Any, citizen: Any) -> None:
    app = applications.save_draft(citizen, MATTER, form_data(citizen))
    applications.attach_upload(citizen, app, "id_card", upload(citizen, plain_png()))
    app.refresh_from_db()
    publish_matter()  # a second version goes live
    assert catalogue.published_version(MATTER).pk != app.version_pk
    done = applications.submit_application(citizen, app)
    assert done.state == State.SUBMITTED and done.version_pk == version.pk


@pytest.fixture
def with_fee(version: Any) -> Any:
    draft = catalogue.create_draft(catalogue.get_matter(MATTER))
    catalogue.save_draft(draft, fee_table={"hit_policy": "FIRST", "rows": [
        {"when": True, "item": "工本费", "amount_fen": 1250}]})
    catalogue.publish_version(draft)
    return catalogue.published_version(MATTER)


def _through_first_step(app: Any, officer: Any) -> tuple[Any, Any]:
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    app = applications.decide_task(officer, task.pk, "approve", "", app.row_version)
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    return app, task


def test_the_approval_that_issues_the_licence_waits_for_the_fee(
        with_fee: Any, citizen: Any, officer: Any, settings: Any) -> None:
    from yiwang.support.payments import service as payments
    from yiwang.support.payments.testing import run_jobs

    settings.YIWANG_PAY_LOCAL_DELAY_SECONDS = 0
    settings.YIWANG_PAY_LOCAL_DUPLICATE_RATE = 0
    app = submitted(citizen)
    assert app.fee_fen == 1250 and app.fee_paid_at is None
    # the first step is not held up by the fee; the last one is
    app, last = _through_first_step(app, officer)
    version_before = app.row_version
    with pytest.raises(ValidationError) as exc:
        applications.decide_task(officer, last.pk, "approve", "", app.row_version)
    assert "尚未缴纳" in _messages(exc) and "¥12.50" in _messages(exc)
    app.refresh_from_db()
    assert (app.state, app.row_version, app.licence_identifier) == (
        State.IN_REVIEW, version_before, "")
    # paid: the same approval goes through and issues the licence
    order = payments.get_order(notice_no=app.fee_notice_no)
    url = payments.start_online_payment(order, "local")
    payments.confirm_local_payment(url.strip("/").split("/")[-1], rng=lambda: 0.9)
    run_jobs()
    app.refresh_from_db()
    assert app.fee_paid_at is not None
    app = applications.decide_task(officer, last.pk, "approve", "", app.row_version)
    assert app.state == State.APPROVED and app.licence_identifier


def test_a_rejection_does_not_wait_for_the_fee(with_fee: Any, citizen: Any,
                                               officer: Any) -> None:
    app, last = _through_first_step(submitted(citizen), officer)
    app = applications.decide_task(officer, last.pk, "reject", "材料不符", app.row_version)
    assert app.state == State.REJECTED


def test_the_workbench_refuses_a_decision_without_the_version_seen(
        version: Any, citizen: Any, officer: Any, internal_client: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    sign_in_client(internal_client, officer)
    url = f"/applications/{app.pk}/tasks/{task.pk}/"
    for posted in ({}, {"expected_version": "abc"}):
        answer = internal_client.post(url + "claim/", posted, follow=True)
        assert "您的操作没有生效" in answer.content.decode()
        task.refresh_from_db()
        assert task.claimed_by_id is None
    internal_client.post(url + "claim/", {"expected_version": app.row_version})
    task.refresh_from_db()
    assert task.claimed_by_id == officer.pk


def test_the_same_bundle_is_not_filed_twice_while_the_first_is_handled(
        bundle: Any, citizen: Any) -> None:  # noqa: F811 (the fixture)
    first = applications.submit_bundle(
        citizen, "test-bundle", form_data(citizen, id_card=[upload(citizen, plain_png())]))
    count = Application.objects.count()
    with pytest.raises(ValidationError) as exc:  # a second click, with a new upload
        applications.submit_bundle(
            citizen, "test-bundle", form_data(citizen, id_card=[upload(citizen, plain_png())]))
    assert first.number in _messages(exc) and "请勿重复提交" in _messages(exc)
    assert Application.objects.count() == count
    # other answers are another application
    other = applications.submit_bundle(
        citizen, "test-bundle", form_data(citizen, purpose="other", purpose_other="留学",
                                          id_card=[upload(citizen, plain_png())]))
    assert other.number != first.number


def test_prefill_reads_email_registry_address_and_the_enterprise(
        city: Any, citizen: Any, enterprise: Any, public_client: Any) -> None:
    from yiwang.core.audit.service import AuditEvent
    from yiwang.platform.registry import service as registry
    from yiwang.support.identity.testing import sign_in_client

    person = registry.find_person(citizen.id_number)
    person.address = "示例市东城区中山路8号"
    person.save(update_fields=["address"])
    citizen.email = "li@example.cn"
    citizen.save(update_fields=["email"])
    form = {"version": 1, "components": [
        {"type": "text", "key": "mail", "label": "电子邮箱", "prefill": "profile.email"},
        {"type": "address", "key": "home", "label": "住址", "prefill": "profile.address"},
        {"type": "text", "key": "rep", "label": "法定代表人",
         "prefill": "enterprise.legal_representative"}]}
    publish_matter("339900-gaj-0002", form=form, licence={})
    sign_in_client(public_client, citizen)
    reads = AuditEvent.objects.filter(action__contains="personal").count()
    page = public_client.get("/applications/apply/339900-gaj-0002/").content.decode()
    assert 'value="li@example.cn"' in page and "中山路8号" in page
    assert AuditEvent.objects.filter(action__contains="personal").count() > reads
    # acting for the enterprise: its legal representative's name (public registration data)
    from yiwang.industry.applications import integration

    assert integration.enterprise_prefill(
        enterprise.credit_code, {"enterprise.legal_representative"}
    )["legal_representative"] == citizen.real_name
    assert integration.enterprise_prefill(enterprise.credit_code, {"profile.name"}) == {}


def test_the_workbench_names_the_task_department_and_says_the_fee_is_unpaid(
        with_fee: Any, citizen: Any, officer: Any, internal_client: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    page = internal_client.get(f"/applications/{app.pk}/").content.decode()
    assert "公安局 ·" in page and "gaj ·" not in page
    assert 'data-testid="fee-unpaid"' in page


def test_a_bundle_progress_page_shows_its_answers(bundle: Any, citizen: Any,  # noqa: F811
                                                  public_client: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    parent = applications.submit_bundle(
        citizen, "test-bundle", form_data(citizen, id_card=[upload(citizen, plain_png())]))
    sign_in_client(public_client, citizen)
    page = public_client.get(f"/applications/{parent.pk}/").content.decode()
    summary = page.split("申请内容")[1].split("</dl>")[0]
    assert "<dt>用途</dt><dd>入职</dd>" in summary and citizen.real_name in summary


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_file_the_bundle_once(bundle: Any, citizen: Any) -> None:  # noqa: F811
    import threading

    from django.db import close_old_connections, connection

    tokens = [upload(citizen, plain_png()) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def click(token: str) -> None:
        try:
            barrier.wait(timeout=10)
            applications.submit_bundle(citizen, "test-bundle",
                                       form_data(citizen, id_card=[token]))
            results.append("filed")
        except ValidationError as exc:
            results.append(str(exc.error_list[0].code))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["filed", "repeat"], results
    assert Application.objects.filter(bundle_code="test-bundle", parent__isnull=True).count() == 1


def test_a_resumed_draft_holding_the_address_does_not_read_the_registry_again(
        city: Any, citizen: Any, public_client: Any) -> None:
    from yiwang.core.audit.service import AuditEvent
    from yiwang.platform.registry import service as registry
    from yiwang.support.identity.testing import sign_in_client

    person = registry.find_person(citizen.id_number)
    person.address = "示例市东城区中山路8号"
    person.save(update_fields=["address"])
    form = {"version": 1, "components": [
        {"type": "text", "key": "note", "label": "说明"},
        {"type": "address", "key": "home", "label": "住址", "prefill": "profile.address"}]}
    publish_matter("339900-gaj-0003", form=form, licence={})
    draft = applications.save_draft(citizen, "339900-gaj-0003", {
        "note": "x", "home": {"region": person.region_code, "detail": "另一处住址9号"}})
    sign_in_client(public_client, citizen)
    reads = AuditEvent.objects.filter(action__contains="personal").count()
    page = public_client.get(
        f"/applications/apply/339900-gaj-0003/?draft={draft.pk}").content.decode()
    assert "另一处住址9号" in page and "中山路8号" not in page
    assert AuditEvent.objects.filter(action__contains="personal").count() == reads


def test_a_lapsed_fee_order_is_renewed_and_the_approval_goes_through(
        with_fee: Any, citizen: Any, officer: Any, stranger_official: Any,
        public_client: Any, internal_client: Any, settings: Any) -> None:
    from datetime import timedelta

    from django.core.exceptions import PermissionDenied
    from django.utils import timezone

    from yiwang.support.identity.testing import sign_in_client
    from yiwang.support.notify import service as notify
    from yiwang.support.payments import service as payments
    from yiwang.support.payments.testing import run_jobs

    settings.YIWANG_PAY_LOCAL_DELAY_SECONDS = 0
    settings.YIWANG_PAY_LOCAL_DUPLICATE_RATE = 0
    app = submitted(citizen)
    first = app.fee_notice_no
    payments.Order.objects.filter(notice_no=first).update(
        expires_at=timezone.now() - timedelta(days=1))  # 15 days passed unpaid
    assert applications.fee_order_lapsed(app)
    app, last = _through_first_step(app, officer)
    with pytest.raises(ValidationError) as exc:
        applications.decide_task(officer, last.pk, "approve", "", app.row_version)
    assert "已过期未缴" in _messages(exc)
    # the progress page offers a new order; the workbench too
    sign_in_client(public_client, citizen)
    page = public_client.get(f"/applications/{app.pk}/").content.decode()
    assert 'data-testid="renew-fee"' in page and 'data-testid="pay-fee"' not in page
    sign_in_client(internal_client, officer)
    assert 'data-testid="renew-fee"' in internal_client.get(
        f"/applications/{app.pk}/").content.decode()
    with pytest.raises(PermissionDenied):  # another department's official
        applications.renew_fee_order(stranger_official, app)
    # the official renews it: the applicant is told the new number
    answer = internal_client.post(f"/applications/{app.pk}/fee/renew/")
    assert answer.status_code == 302
    app.refresh_from_db()
    assert app.fee_notice_no and app.fee_notice_no != first
    assert payments.get_order(notice_no=first).state == "closed"
    told = notify.Notification.objects.filter(recipient=citizen, kind="application.fee_order")
    assert told.count() == 1 and payments.grouped(app.fee_notice_no) in told[0].body
    assert not applications.fee_order_lapsed(app)
    with pytest.raises(ValidationError):  # nothing to renew now
        applications.renew_fee_order(citizen, app)
    order = payments.get_order(notice_no=app.fee_notice_no)
    url = payments.start_online_payment(order, "local")
    payments.confirm_local_payment(url.strip("/").split("/")[-1], rng=lambda: 0.9)
    run_jobs()
    app.refresh_from_db()
    app = applications.decide_task(officer, last.pk, "approve", "", app.row_version)
    assert app.state == State.APPROVED and app.licence_identifier


def test_the_apply_page_says_who_may_file_and_offers_no_buttons_to_the_wrong_applicant(
        version: Any, citizen: Any, enterprise: Any, public_client: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    sign_in_client(public_client, citizen)
    url = f"/applications/apply/{MATTER}/"
    page = public_client.get(url).content.decode()
    assert 'data-testid="applicant-problem"' not in page and 'data-testid="submit"' in page
    # the representative switches to acting for the enterprise (办事身份)
    switched = public_client.post("/account/enterprise/switch/",
                                  {"credit_code": enterprise.credit_code})
    assert switched.status_code == 302
    page = public_client.get(url).content.decode()
    assert 'data-testid="applicant-problem"' in page and "面向个人的事项" in page
    assert 'data-testid="submit"' not in page and 'data-testid="save-draft"' not in page
