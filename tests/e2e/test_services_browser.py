"""A new online service, from the builder to a sealed licence, in headless Chromium.

人社局's head (服务事项管理员) creates a matter, writes its guide, builds version 1 — a form
with a field shown on a condition (JSON Logic from the builder's condition editor) and an
ID-card upload, a two-step approval (窗口受理 by a 工作人员, then 审核 by the head), no fee,
and a 社会保障卡 licence mapping — and publishes it. A citizen finds it by search on
/services/, applies with a generated ID-card image (read by OCR and matched against the
form), the 工作人员 asks for a correction (补正), the citizen corrects, both steps approve,
and the citizen downloads the sealed licence from the wallet; it verifies (through the API
and on the portal's 证照核验 page).

Screenshots of each step: var/artifacts/e2e/services/ (``YIWANG_E2E_ARTIFACTS`` overrides).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import Server, chromium
from tests.e2e.identity_steps import body_text, click_and_land, sign_in_official, wait_for
from tests.e2e.services_steps import (
    add_component,
    add_task,
    artifacts_dir,
    builder_output,
    by_testid,
    claim,
    click,
    flow_output,
    open_from_inbox,
    screenshot,
    set_condition,
    state_of,
    type_into,
    wallet_pks,
)
from tests.e2e.trust_steps import download, passed, sign_in_citizen, verify_on

pytestmark = pytest.mark.e2e

ADMIN = "rsj.head1"      # 人社局 局长: 服务事项管理员, and the second approver
CLERK = "rsj.clerk1"     # 人社局 工作人员: the first step and the 补正
CITIZEN = "citizen3"
LICENCE_TYPE = "social_security_card"  # 社会保障卡, issued by 人社局
CODE = "330000-RSJ-E2E-0001"
NAME = "社会保障卡邮寄补领"
SEARCH = "邮寄补领"
ADDRESS = "示例市中山路1号"
ADDRESS_CORRECTED = "示例市中山路1号3幢502室"


def build_and_publish(server: Server, admin: Any) -> None:
    sign_in_official(server, admin, ADMIN, start="/services/")
    admin.get(server.internal + "/services/new/")
    wait_for(lambda: by_testid(admin, "matter-code"), "the new-matter form")
    type_into(admin, by_testid(admin, "matter-code"), CODE)
    type_into(admin, by_testid(admin, "matter-name"), NAME)
    Select(by_testid(admin, "matter-department")).select_by_value("rsj")
    Select(by_testid(admin, "matter-audience")).select_by_value("person")
    click_and_land(admin, by_testid(admin, "matter-submit"), "the guide editor")
    assert f"/services/m/{CODE}/guide/" in admin.current_url, body_text(admin)

    # 办事指南: keywords (what the search finds), summary, promised days.
    type_into(admin, by_testid(admin, "guide-keywords"), "社保卡 补领 邮寄")
    type_into(admin, by_testid(admin, "guide-summary"),
              "社会保障卡遗失或损坏的,可在线申请补领并邮寄到家。")
    type_into(admin, by_testid(admin, "guide-promised_days"), "3")
    click_and_land(admin, by_testid(admin, "guide-submit"), "the matter page")
    assert admin.current_url.endswith(f"/services/m/{CODE}/"), body_text(admin)

    click_and_land(admin, by_testid(admin, "new-version"), "the version editor")
    assert re.search(r"/services/versions/\d+/$", admin.current_url), admin.current_url
    version_url = admin.current_url
    wait_for(lambda: by_testid(admin, "palette-text"), "the form builder")

    # 1. The form: name and ID number (prefilled from the profile), whether to post the new
    # card, the address shown only when it is posted, the ID card's picture.
    add_component(admin, "text", key="name", label="姓名", required=True,
                  prefill="profile.name")
    add_component(admin, "id_number", key="id_number", label="公民身份号码", required=True,
                  prefill="profile.id_number")
    add_component(admin, "choice", key="mail", label="是否邮寄新卡", required=True,
                  extra={"options": "yes|是|Yes\nno|否|No"})
    add_component(admin, "text", key="mail_address", label="邮寄地址", required=True)
    set_condition(admin, "mail", "==", "yes")
    add_component(admin, "file", key="id_card", label="居民身份证正面照片", required=True,
                  extra={"material": "id_card"})
    definition = builder_output(admin)
    assert [c["key"] for c in definition["components"]] == [
        "name", "id_number", "mail", "mail_address", "id_card"]
    by_key = {c["key"]: c for c in definition["components"]}
    assert by_key["mail_address"]["conditional"] == {"==": [{"var": "mail"}, "yes"]}
    assert by_key["id_card"]["material"] == "id_card"
    assert by_key["name"]["prefill"] == "profile.name"

    # 2. Two steps: 窗口受理 (工作人员), then 审核发证 (局长).
    add_task(admin, "task_1", "窗口受理", "rsj", "clerk")
    add_task(admin, "task_2", "审核发证", "rsj", "head")
    spec = flow_output(admin)
    assert [(s["kind"], s["name"], s["department"], s["position"]) for s in spec["steps"]] == [
        ("task", "窗口受理", "rsj", "clerk"), ("task", "审核发证", "rsj", "head")]

    # 3. No fee: the decision table stays empty. 4. The licence: 社会保障卡, the card number
    # a fresh serial, the date of issue the decision date (holder fields are automatic).
    assert by_testid(admin, "fee-when-1").get_attribute("value") == ""
    Select(by_testid(admin, "licence-type")).select_by_value(LICENCE_TYPE)
    screenshot(admin, "01-builder")
    click_and_land(admin, by_testid(admin, "licence-refresh"), "the licence fields")
    wait_for(lambda: by_testid(admin, "licence-map-card_number"), "the licence mapping")
    # What was built survives the round trip of 显示证照字段.
    assert [c["key"] for c in builder_output(admin)["components"]] == [
        "name", "id_number", "mail", "mail_address", "id_card"]
    assert len(flow_output(admin)["steps"]) == 2
    type_into(admin, by_testid(admin, "licence-map-card_number"), "$serial")
    type_into(admin, by_testid(admin, "licence-map-issued_on"), "$today")
    click_and_land(admin, by_testid(admin, "version-save"), "the saved draft")
    assert not admin.find_elements(By.CSS_SELECTOR, "[data-testid='version-errors']"), \
        body_text(admin)
    assert "草稿已保存" in body_text(admin)
    assert admin.current_url == version_url

    click_and_land(admin, by_testid(admin, "version-publish"), "the matter after publishing")
    assert admin.current_url.endswith(f"/services/m/{CODE}/"), body_text(admin)
    assert by_testid(admin, "matter-live-version").text == "第 1 版"
    assert by_testid(admin, "matter-published").text == "已公开"
    screenshot(admin, "02-published")


def apply(server: Server, citizen: Any, card_path: Path) -> tuple[str, str, str]:
    """Find the service, apply with the ID card; the receipt number, the name and the ID
    number the form was filled with."""
    sign_in_citizen(server, citizen, CITIZEN, next_url="/services/")
    citizen.get(f"{server.public}/services/?q={SEARCH}")
    item = wait_for(lambda: by_testid(citizen, f"matter-{CODE}"), "the service in the results")
    assert NAME in item.text
    screenshot(citizen, "03-search")
    click_and_land(citizen, item.find_element(By.TAG_NAME, "a"), "the guide")
    click_and_land(citizen, by_testid(citizen, "apply-online"), "the apply page")
    form = wait_for(lambda: by_testid(citizen, "apply-form"), "the apply form")

    # Prefilled from the citizen's real-name profile.
    name = form.find_element(By.NAME, "name").get_attribute("value")
    id_number = form.find_element(By.NAME, "id_number").get_attribute("value")
    assert name and re.fullmatch(r"\d{17}[\dX]", id_number), (name, id_number)

    # The condition: the address shows only once 邮寄 is chosen.
    address = form.find_element(By.CSS_SELECTOR, "[data-key='mail_address']")
    assert not address.is_displayed()
    selects = form.find_elements(By.CSS_SELECTOR, "select[name='mail']")
    if selects:
        Select(selects[0]).select_by_value("yes")
    else:
        click(citizen, form.find_element(By.CSS_SELECTOR, "input[name='mail'][value='yes']"))
    wait_for(address.is_displayed, "the address field shown by the condition")
    type_into(citizen, form.find_element(By.NAME, "mail_address"), ADDRESS)

    from yiwang.enablement.ai.testing import render_id_card

    birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
    sex = "男" if int(id_number[16]) % 2 else "女"
    card_path.write_bytes(render_id_card({
        "name": name, "sex": sex, "ethnicity": "汉", "birth": birth,
        "address": "示例市示例区中山路1号", "id_number": id_number}))
    form.find_element(By.CSS_SELECTOR, "[data-key='id_card'] input[type='file']").send_keys(
        str(card_path))
    screenshot(citizen, "04-apply")
    click_and_land(citizen, by_testid(citizen, "submit"), "the receipt")
    receipt = wait_for(lambda: by_testid(citizen, "receipt-number"), "the receipt number").text
    assert receipt, body_text(citizen)
    screenshot(citizen, "05-submitted")

    # The progress page: submitted; the ID card read by OCR agrees with the form.
    click_and_land(citizen, by_testid(citizen, "progress-link"), "the progress page")
    assert state_of(citizen) in ("submitted", "in_review")
    materials = by_testid(citizen, "materials")
    assert "一致" in materials.text, materials.text
    assert not citizen.find_elements(By.CSS_SELECTOR, "[data-testid='ocr-mismatch']")
    return str(receipt), str(name), str(id_number)


def ask_for_correction(server: Server, clerk: Any, number: str) -> None:
    sign_in_official(server, clerk, CLERK, start="/inbox/")
    open_from_inbox(server, clerk, number)
    section = claim(clerk)
    assert "窗口受理" in section.text
    type_into(clerk, by_testid(clerk, "correction-reason", section), "邮寄地址请写到门牌号和室号。")
    click_and_land(clerk, by_testid(clerk, "request-correction", section), "after 要求补正")
    assert state_of(clerk) == "correction", body_text(clerk)
    screenshot(clerk, "06-correction-requested")


def correct(server: Server, citizen: Any) -> None:
    citizen.get(f"{server.public}/applications/")
    row = wait_for(lambda: [r for r in citizen.find_elements(
        By.CSS_SELECTOR, "[data-testid='application-row']") if NAME in r.text], "my application")
    click_and_land(citizen, row[0].find_element(By.TAG_NAME, "a"), "the progress page")
    assert state_of(citizen) == "correction"
    assert "门牌号" in by_testid(citizen, "correction-needed").text
    click_and_land(citizen, by_testid(citizen, "correct-link"), "the correction form (去补正)")
    form = wait_for(lambda: by_testid(citizen, "correct-form"), "the correction form")
    assert "门牌号" in by_testid(citizen, "correction-reason").text
    field = form.find_element(By.NAME, "mail_address")
    assert field.get_attribute("value") == ADDRESS
    type_into(citizen, field, ADDRESS_CORRECTED)
    screenshot(citizen, "07-correcting")
    click_and_land(citizen, by_testid(citizen, "submit-correction"), "after 提交补正")
    assert state_of(citizen) in ("submitted", "in_review"), body_text(citizen)
    assert ADDRESS_CORRECTED in body_text(citizen)
    screenshot(citizen, "08-corrected")


def approve(server: Server, official: Any, number: str, step: str) -> str:
    open_from_inbox(server, official, number)
    section = claim(official)
    assert step in section.text
    click_and_land(official, by_testid(official, "approve", section), f"after approving {step}")
    return state_of(official)


def test_build_a_service_apply_correct_approve_and_verify(server: Server,
                                                          tmp_path: Path) -> None:
    with chromium() as admin, chromium() as citizen, chromium() as clerk:
        build_and_publish(server, admin)
        number, name, id_number = apply(server, citizen, tmp_path / "id-card.png")
        held = wallet_pks(server, citizen, LICENCE_TYPE)

        ask_for_correction(server, clerk, number)
        correct(server, citizen)

        assert approve(server, clerk, number, "窗口受理") == "in_review", body_text(clerk)
        assert ADDRESS_CORRECTED in by_testid(clerk, "data").text
        # The second step is the head's: nothing left here for the 工作人员 to act on.
        assert not clerk.find_elements(
            By.CSS_SELECTOR, "[data-testid='claim'], [data-testid='approve']")
        assert "审核发证" in body_text(clerk)
        screenshot(clerk, "09-first-step-approved")
        assert approve(server, admin, number, "审核发证") == "approved", body_text(admin)
        screenshot(admin, "10-approved")

        # The licence reaches the wallet; the citizen downloads it and it verifies.
        def new_licence() -> set[int]:
            return wallet_pks(server, citizen, LICENCE_TYPE) - held

        fresh = wait_for(new_licence, "the new licence in the wallet", timeout=60)
        assert len(fresh) == 1, fresh
        pk = fresh.pop()
        citizen.get(f"{server.public}/licences/{pk}/")
        wait_for(lambda: "社会保障卡" in body_text(citizen), "the licence page")
        screenshot(citizen, "11-wallet")
        licence = download(server, citizen, pk)
        subject = licence.vc["credentialSubject"]
        assert (subject["holderName"], subject["holderCode"]) == (name, id_number), subject
        fields = subject["licence"]["fields"]
        assert re.fullmatch(r"\d{16}", str(fields["card_number"])), fields      # $serial
        assert fields["issued_on"] == subject["licence"]["issuedOn"], fields    # $today

        for kind, item in (("vc", licence.vc), ("qr", licence.qr)):
            result = verify_on(server, kind, item)
            assert result["valid"] is True, (kind, result["checks"])
        result = verify_on(server, "pdf", licence.pdf)
        for check in ("certificate", "signature"):
            assert passed(result, check), (check, result["checks"])
        assert result["valid"] is True, result["checks"]
        (artifacts_dir() / "12-licence.pdf").write_bytes(licence.pdf)
        # and as anyone shown it would: uploaded on the portal's 证照核验 page
        pdf_path = tmp_path / "licence.pdf"
        pdf_path.write_bytes(licence.pdf)
        citizen.get(f"{server.public}/licences/verify/")
        citizen.find_element(By.CSS_SELECTOR, "input[name='kind'][value='pdf']").click()
        citizen.find_element(By.CSS_SELECTOR, "input[type='file'][name='file']").send_keys(
            str(pdf_path))
        click_and_land(citizen, citizen.find_element(
            By.CSS_SELECTOR, "form.lic-verify button[type='submit']"), "the verification result")
        verdict = wait_for(lambda: citizen.find_element(By.ID, "lic-result-title").text,
                           "the verdict")
        assert verdict == "核验通过", body_text(citizen)
        assert "社会保障卡" in body_text(citizen)
        screenshot(citizen, "13-verified")
