"""The service-version editor of the workbench (服务版本): saving a draft as the page shows it
keeps the licence mapping whole, the licence holder (持证主体) part, and frozen versions shown
read-only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import lxml.html
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse as _reverse

from yiwang.demo.testing import make_demo_departments
from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db

PACKS = Path(__file__).resolve().parents[3] / "demo" / "packs"
EDITOR = ("services.change_matter", "services.publish_matter")


def url(name: str, *args: Any) -> str:
    return _reverse(name, args=args or None, urlconf="yiwang.urls.internal")


@pytest.fixture
def demo_city(db: Any) -> None:
    make_demo_departments()


def official(department: str) -> Any:
    user = identity.create_official(f"{department}.versions", "版本编辑", password="y" * 20)
    orgs.add_member(user, department_code=department)
    for dotted in EDITOR:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def load_pack(name: str) -> service.Matter:
    pack = json.loads((PACKS / name).read_text(encoding="utf-8"))
    matter = service.import_definition(pack)
    assert isinstance(matter, service.Matter)
    return matter


def form_fields(page: str) -> list[tuple[str, str]]:
    """What a browser posts from the editor's form as the page shows it (no button)."""
    form = lxml.html.fromstring(page).get_element_by_id("version-form")
    return list(form.form_values())


def post(client: Any, address: str, pairs: list[tuple[str, str]]) -> Any:
    """Post the pairs as a browser does (repeated names in order)."""
    return client.post(address, urlencode(pairs),
                       content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize(("pack", "department"), [
    ("339900-scjg-xk-001.json", "scjg"),  # 新设个体工商户
    ("339900-wjw-gg-001.json", "wjw"),    # 出生医学证明: a newborn
    ("339900-rsj-gg-001.json", "rsj"),    # 社会保障卡: a newborn when the form says so
])
def test_saving_a_draft_unchanged_keeps_the_licence_and_its_holder(
        internal_client: Any, demo_city: Any, pack: str, department: str) -> None:
    matter = load_pack(pack)
    live = service.published_version(matter.code)
    assert live is not None and live.licence.get("holder")
    sign_in_client(internal_client, official(department))
    response = internal_client.post(url("workbench:services_new_version", matter.code))
    assert response.status_code == 302
    draft = service.latest_draft(matter)
    assert draft is not None and draft.licence == live.licence
    page = internal_client.get(url("workbench:services_version", draft.pk)).content.decode()
    response = post(internal_client, url("workbench:services_version", draft.pk),
                    [*form_fields(page), ("action", "save")])
    assert response.status_code == 302, response.content.decode()
    saved = service.get_version(draft.pk)
    assert saved.licence == live.licence
    assert saved.fee_table == live.fee_table
    assert 'data-testid="licence-holder-kind"' in page


def test_the_holder_part_offers_the_kinds_that_fit_and_shows_the_chosen_kinds_sources(
        internal_client: Any, demo_city: Any) -> None:
    matter = load_pack("339900-scjg-xk-001.json")
    sign_in_client(internal_client, official("scjg"))
    internal_client.post(url("workbench:services_new_version", matter.code))
    draft = service.latest_draft(matter)
    version_url = url("workbench:services_version", draft.pk)
    doc = lxml.html.fromstring(internal_client.get(version_url).content.decode())
    kinds = doc.get_element_by_id("licence_holder_kind")
    assert [(o.get("value"), o.text_content()) for o in kinds.iter("option")] == [
        ("", "申请人本人或其代表的单位"), ("new_individual_business", "新设个体工商户")]
    assert kinds.value == "new_individual_business"
    labels = {label.get("for"): label.text_content() for label in doc.iter("label")}
    assert labels["licence-holder-operator_name"] == "经营者姓名"
    assert labels["licence-holder-operator_id_number"] == "经营者公民身份号码"
    assert labels["licence-holder-name"] == "名称"
    assert doc.get_element_by_id("licence-holder-operator_id_number").value == "id_number"
    assert json.loads(doc.get_element_by_id("licence-holder-name").value) == (
        draft.licence["holder"]["name"])
    # The licence goes to the applicant: no holder is saved.
    fields = [(k, v) for k, v in form_fields(internal_client.get(version_url).content.decode())
              if k != "licence_holder_kind"]
    response = post(internal_client, version_url, [*fields, ("licence_holder_kind", ""),
                                                   ("action", "save")])
    assert response.status_code == 302, response.content.decode()
    assert "holder" not in service.get_version(draft.pk).licence
    # Choosing the kind again and refreshing shows its (empty) sources; saving without the
    # required ones names them and keeps what was typed.
    page = internal_client.get(version_url).content.decode()
    fields = [(k, v) for k, v in form_fields(page) if k != "licence_holder_kind"]
    page = post(internal_client, version_url, [
        *fields, ("licence_holder_kind", "new_individual_business"),
        ("licence_holder__name", "shop_name"), ("action", "refresh")]).content.decode()
    doc = lxml.html.fromstring(page)
    assert doc.get_element_by_id("licence-holder-name").value == "shop_name"
    assert doc.get_element_by_id("licence-holder-operator_name").value == ""
    page = post(internal_client, version_url, [*form_fields(page), ("action", "save")])
    assert page.status_code == 200
    text = page.content.decode()
    assert "必须映射“operator_name”" in text
    assert lxml.html.fromstring(text).get_element_by_id("licence-holder-name").value == (
        "shop_name")
    # A JSON Logic source that is not JSON is named.
    fields = [(k, v) for k, v in form_fields(text) if k != "licence_holder__operator_name"]
    page = post(internal_client, version_url, [*fields, ("licence_holder__operator_name", "{x"),
                                              ("action", "save")]).content.decode()
    assert "持证主体的“经营者姓名”的规则不是有效的 JSON" in page


def test_a_licence_type_for_people_offers_the_newborn(internal_client: Any,
                                                      demo_city: Any) -> None:
    matter = load_pack("339900-wjw-gg-001.json")
    sign_in_client(internal_client, official("wjw"))
    internal_client.post(url("workbench:services_new_version", matter.code))
    draft = service.latest_draft(matter)
    doc = lxml.html.fromstring(internal_client.get(
        url("workbench:services_version", draft.pk)).content.decode())
    kinds = doc.get_element_by_id("licence_holder_kind")
    assert [o.get("value") for o in kinds.iter("option")] == ["", "newborn"]
    labels = {label.get("for"): label.text_content() for label in doc.iter("label")}
    assert labels["licence-holder-name"] == "姓名"
    assert labels["licence-holder-mother_id_number"] == "母亲公民身份号码"
    assert labels["licence-holder-when"] == "适用条件(JSON Logic)"


def test_a_frozen_version_shows_its_holder_read_only(internal_client: Any,
                                                     demo_city: Any) -> None:
    matter = load_pack("339900-rsj-gg-001.json")
    live = service.published_version(matter.code)
    sign_in_client(internal_client, official("rsj"))
    page = internal_client.get(url("workbench:services_version", live.pk)).content.decode()
    doc = lxml.html.fromstring(page)
    kinds = doc.get_element_by_id("licence_holder_kind")
    assert kinds.value == "newborn"
    when = doc.get_element_by_id("licence-holder-when")
    assert json.loads(when.value) == live.licence["holder"]["when"]
    fieldset = next(when.iterancestors("fieldset"))
    assert fieldset.get("disabled") is not None
    assert 'data-testid="version-save"' not in page


def test_a_frozen_version_shows_its_flow_as_readable_steps(internal_client: Any,
                                                           demo_city: Any) -> None:
    matter = load_pack("339900-bdc-qr-001.json")
    live = service.published_version(matter.code)
    sign_in_client(internal_client, official("bdc"))
    page = internal_client.get(url("workbench:services_version", live.pk)).content.decode()
    summary = lxml.html.fromstring(page).find_class("svc-flow-steps")[0]
    steps = [" ".join(li.text_content().split()) for li in summary.iterchildren("li")]
    assert steps[0] == "受理 — 不动产登记中心 · 工作人员,1 个工作日"
    assert steps[1].startswith("条件分支“按转移原因”")
    assert '“继承” 条件: {"==": [{"var": "reason"}, "inherit"]}' in steps[1]
    assert "继承材料核查 — 不动产登记中心 · 登记审核员,2 个工作日" in steps[1]
    assert "其他情况 不经过审批环节。" in steps[1]
    assert steps[2] == "税费核验 会签 — 税务局 · 税收管理员、不动产登记中心 · 登记审核员,1 个工作日"
    assert steps[3] == "登簿 — 不动产登记中心 · 登记审核员,1 个工作日;超过 1 个工作日预警"
    # The raw definition is still there, folded away.
    assert 'data-testid="flow-json"' in page and "<details>" in page


def test_a_versions_flow_downloads_as_bpmn_that_imports_again(internal_client: Any,
                                                              demo_city: Any) -> None:
    matter = load_pack("339900-bdc-qr-001.json")  # gateways and a countersign
    live = service.published_version(matter.code)
    assert live is not None and live.bpmn
    sign_in_client(internal_client, official("bdc"))
    page = internal_client.get(url("workbench:services_version", live.pk)).content.decode()
    assert 'data-testid="bpmn-download"' in page
    response = internal_client.get(url("workbench:services_version_bpmn_file", live.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{matter.code}-v{live.number}.bpmn"')
    xml = response.content.decode()
    assert "bpmn:definitions" in xml or "<definitions" in xml
    assert "BPMNDiagram" in xml  # with its diagram, so a modeller draws it
    # the round trip: the file imports into a new draft as it is
    internal_client.post(url("workbench:services_new_version", matter.code))
    draft = service.latest_draft(matter)
    assert draft is not None
    answer = internal_client.post(
        url("workbench:services_version_bpmn", draft.pk),
        {"bpmn": SimpleUploadedFile("flow.bpmn", response.content, "application/xml")},
        HTTP_ACCEPT="application/json")
    assert answer.json() == {"ok": True, "errors": []}
    assert service.get_version(draft.pk).bpmn
    # another department's official gets no file
    internal_client.logout()
    sign_in_client(internal_client, official("scjg"))
    assert internal_client.get(
        url("workbench:services_version_bpmn_file", live.pk)).status_code in (403, 404)
