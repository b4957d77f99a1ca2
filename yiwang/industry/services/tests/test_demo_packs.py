"""The demo's service packs: data files that load through import_definition, idempotently,
with licence types their departments may issue, and round-trip through export."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.demo import services as demo
from yiwang.demo.testing import make_demo_departments
from yiwang.enablement.forms import service as forms
from yiwang.industry.services import service
from yiwang.support.licences import service as licences

pytestmark = pytest.mark.django_db
ONLINE = {"339900-SCJG-XK-001": "business_licence", "339900-BDC-QR-001": "property_certificate",
          "339900-GAJ-GG-001": "no_criminal_record", "339900-RSJ-GG-003": None}


def _has_bundle_apply_page() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("applications_portal:apply_bundle", args=["birth"], urlconf="yiwang.urls.public")
    except NoReverseMatch:
        return False
    return True


def _progress(label: str, total: int) -> Any:
    return lambda n: None


@pytest.fixture
def demo_city(db: Any) -> None:
    make_demo_departments()


def test_demo_catalogue_loads_and_is_idempotent(demo_city: Any) -> None:
    counts = demo.load_services(_progress)
    assert counts["matters"] >= 30 and counts["skipped"] == 1  # 民政局 is not in this city
    for code, licence_type in ONLINE.items():
        version = service.published_version(code)
        assert version is not None, code
        assert (version.licence or {}).get("type") == licence_type
    bundle = service.published_bundle("birth")
    assert bundle is not None and len(bundle.members) == 4
    assert {m.version.licence.get("type") for m in bundle.members} == {
        "birth_certificate", "social_security_card", None}
    assert service.list_matters(life_event="birth").paginator.count >= 4
    assert service.list_matters(audience="legal").paginator.count >= 8
    guide_only = service.get_matter("339900-SCJG-XK-002")
    assert guide_only.published and service.published_version(guide_only.code) is None
    versions = service.ServiceVersion.objects.count()
    demo.load_services(_progress)
    assert service.ServiceVersion.objects.count() == versions


def test_property_transfer_fees(demo_city: Any) -> None:
    demo.load_services(_progress)
    version = service.published_version("339900-BDC-QR-001")
    assert service.compute_fee(version, {"usage": "residential"}).total_fen == 8000
    quote = service.compute_fee(version, {"usage": "office", "extra_certificates": 2})
    assert quote.total_fen == 56000 and len(quote.items) == 2


def test_packs_round_trip_and_bundle_projection(demo_city: Any) -> None:
    demo.load_services(_progress)
    matters, _bundles = demo.pack_files()
    for path in matters:
        pack = demo._read(path)
        matter = service.get_matter(pack["matter"]["code"])
        if matter is None:
            continue
        exported = service.export_definition(matter)
        assert exported["matter"]["guide"]["materials"] == pack["matter"]["guide"]["materials"]
        if pack["version"]:
            assert exported["version"]["form"] == forms.check_definition(pack["version"]["form"])
    bundle = service.published_bundle("birth")
    data = {"child_name": "王小明", "child_sex": "男", "born_on": "2026-11-20",
            "household_address": {"region": "339901001000", "detail": "湖滨路1号"},
            "mailing": "post", "payer": "bank"}
    card = next(m for m in bundle.members if m.matter_code == "339900-RSJ-GG-001")
    assert service.project_member_data(card, data) == {
        "card_holder_name": "王小明", "mailing": "post",
        "mailing_address": {"region": "339901001000", "detail": "湖滨路1号"}, "reissue": "no",
        # the card goes to the newborn (its holder mapping), who needs these for an ID number
        "for_newborn": "yes", "newborn_sex": "男", "newborn_born_on": "2026-11-20",
        "household_address": {"region": "339901001000", "detail": "湖滨路1号"}}


def test_demo_pages_render(demo_city: Any, public_client: Any) -> None:
    demo.load_services(_progress)
    for prefix in ("", "/en"):
        index = public_client.get(f"{prefix}/services/")
        assert index.status_code == 200
        assert public_client.get(f"{prefix}/services/?event=birth").status_code == 200
        assert public_client.get(f"{prefix}/services/?department=bdc&page=2").status_code == 200
        for code in (*ONLINE, "339900-WJW-GG-001", "339900-SCJG-XK-002"):
            page = public_client.get(f"{prefix}/services/{code}/")
            assert page.status_code == 200, code
        bundle = public_client.get(f"{prefix}/services/bundles/birth/").content.decode()
        assert ('data-testid="apply-bundle"' in bundle) == _has_bundle_apply_page()
    page = public_client.get("/services/339900-BDC-QR-001/").content.decode()
    assert "可用电子证照代替" in page and "不动产权证书" in page and "80元" in page


def test_social_security_card_gets_a_serial(demo_city: Any) -> None:
    demo.load_services(_progress)
    version = service.published_version("339900-RSJ-GG-001")
    code, fields = service.licence_fields(version, {"card_holder_name": "王小明"})
    assert code == "social_security_card"
    assert len(fields["card_number"]) == 16 and fields["issued_on"]


def test_online_forms_accept_a_real_application(demo_city: Any) -> None:
    """What a person fills in validates against the pack's form and yields every required
    licence field (those not filled from the holder)."""
    from yiwang.enablement.forms import testing as forms_testing

    demo.load_services(_progress)
    person = {"name": "张三", "id_number": forms_testing.ID_NUMBER, "phone": "13800138000"}
    cases = {
        "339900-SCJG-XK-001": {**person, "kind": "person", "capital": 10, "staff": 2,
                               "premises": {"region": "339901001000", "detail": "湖滨路 1 号"},
                               "business_scope": "日用百货零售",
                               "id_card": [forms_testing.TOKEN],
                               "premises_proof": [forms_testing.TOKEN_2]},
        "339900-GAJ-GG-001": {**person, "purpose": "就业", "period_from": "2010-01-01",
                              "id_doc": [forms_testing.TOKEN]},
    }
    for code, data in cases.items():
        version = service.published_version(code)
        cleaned = forms.validate_submission(version.form, data)
        type_code, fields = service.licence_fields(version, cleaned)
        required = [f["key"] for f in licences.get_type(type_code).schema["fields"]
                    if f.get("required") and not f.get("holder")]
        assert set(required) <= set(fields), (code, set(required) - set(fields))
    version = service.published_version("339900-SCJG-XK-001")
    _code, fields = service.licence_fields(version, forms.validate_submission(
        version.form, cases["339900-SCJG-XK-001"]))
    assert fields["kind"] == "个体工商户(个人经营)" and fields["address"] == "湖滨路 1 号"


def test_catalogue_pages_make_few_queries(demo_city: Any, public_client: Any,
                                          django_assert_max_num_queries: Any) -> None:
    demo.load_services(_progress)
    public_client.get("/services/")  # warm up (sessions, content types)
    with django_assert_max_num_queries(12):
        assert public_client.get("/services/?event=birth").status_code == 200
    with django_assert_max_num_queries(10):
        assert public_client.get("/services/339900-BDC-QR-001/").status_code == 200


def test_a_reload_keeps_a_draft_an_official_is_editing(demo_city: Any, monkeypatch: Any
                                                       ) -> None:
    demo.load_services(_progress)
    matter = service.get_matter("339900-GAJ-GG-001")
    draft = service.create_draft(matter)
    form = {**draft.form, "components": [*draft.form["components"], {
        "type": "text", "key": "my_note", "label": "备注", "required": False}]}
    service.save_draft(draft, form=form)
    read = demo._read

    def newer_pack(path: Any) -> dict[str, Any]:  # a newer demo release changed the pack
        pack = read(path)
        if "gaj-gg-001" in path.name:
            pack["version"]["form"]["components"][0]["label"] = "申请人的姓名"
        return pack

    monkeypatch.setattr(demo, "_read", newer_pack)
    counts = demo.load_services(_progress)
    assert counts["skipped"] == 2  # 民政局's matter, and the one being edited
    draft.refresh_from_db()
    assert "my_note" in str(draft.form)
    assert service.published_version(matter.code).number == 1
