"""Unified identity in a real browser: register, verify, TOTP, then single sign-on and -out.

The issue's scenario, on the demo started as `make demo` starts it: a citizen registers
with a phone (the code comes from the local SMS gateway's outbox), verifies their real name
against the population registry, enables TOTP, signs in to the portal with password and
TOTP, then opens two relying parties without signing in again — the example app registered
by the demo and an app an administrator registers in the workbench — and signing out of one
signs them out of all (RP-initiated logout, then back-channel logout to the other app).
"""

from __future__ import annotations

import re

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.conftest import chromium, free_port
from tests.e2e.identity_steps import (
    body_text,
    click_and_land,
    example_rp,
    fill,
    new_code,
    outbox,
    registry_person_without_account,
    sign_in_official,
    submit_form_with,
    wait_for,
)

pytestmark = pytest.mark.e2e

PHONE = "13912340001"
PASSWORD = "Qingshan-e2e-2026!"


def register_in_workbench(server, admin) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """An administrator registers a relying party in 接入应用管理; (url, client id, secret)."""
    url = f"http://127.0.0.1:{free_port()}"
    sign_in_official(server, admin, "admin", start="/relying-parties/new/")
    wait_for(lambda: "/relying-parties/new/" in admin.current_url, "the registration form")
    fill(admin, "name", "区住房补贴申报系统")
    admin.find_element(By.CSS_SELECTOR, "input[name=client_type][value=confidential]").click()
    fill(admin, "redirect_uris", f"{url}/callback")
    fill(admin, "post_logout_redirect_uris", f"{url}/")
    fill(admin, "backchannel_logout_uri", f"{url}/backchannel-logout")
    for scope in ("openid", "profile", "identity"):
        box = admin.find_element(By.CSS_SELECTOR, f"input[name=allowed_scopes][value={scope}]")
        if not box.is_selected():
            box.click()
    admin.find_element(By.CSS_SELECTOR, "input[name=subject_type][value=pairwise]").click()
    admin.find_element(By.CSS_SELECTOR, "form button[type=submit].button:not(.button--secondary)"
                       ).click()
    wait_for(lambda: admin.find_elements(By.CSS_SELECTOR, "code.secret"), "the one-time secret")
    codes = admin.find_elements(By.CSS_SELECTOR, "dl.summary code")
    client_id, secret = codes[0].text.strip(), codes[1].text.strip()
    assert client_id and len(secret) > 30
    return url, client_id, secret


def open_rp_signed_in(browser, url: str) -> str:  # type: ignore[no-untyped-def]
    """Open a relying party and sign in there: consent, but no password. Its page text."""
    browser.get(url + "/")
    click_and_land(browser, browser.find_element(By.ID, "login"), "the provider")
    assert "/account/login/" not in browser.current_url, "asked to sign in again"
    if browser.find_elements(By.CSS_SELECTOR, "button[name=decision][value=allow]"):
        click_and_land(browser, browser.find_element(
            By.CSS_SELECTOR, "button[name=decision][value=allow]"), "the consent")
    try:
        wait_for(lambda: browser.current_url.startswith(url)
                 and browser.find_elements(By.ID, "status"), "the relying party's page")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: at {browser.current_url}: {browser.page_source[-3000:]}"
                             ) from None
    text = body_text(browser)
    assert "已登录" in text, text
    return str(text)


def test_citizen_signs_in_once_for_portal_and_relying_parties(server):  # type: ignore[no-untyped-def]
    person = registry_person_without_account(server)
    with chromium() as citizen:
        # 1. Register with a phone: the code arrives in the local gateway's outbox.
        citizen.get(server.public + "/account/register/")
        seen = len(outbox(server))
        citizen.find_element(By.NAME, "phone").send_keys(PHONE + Keys.ENTER)
        fill(citizen, "code", new_code(server, seen))
        fill(citizen, "password1", PASSWORD)
        fill(citizen, "password2", PASSWORD)
        submit_form_with(citizen, "action", "register")
        wait_for(lambda: "/account/register" not in citizen.current_url, "registration")
        assert "我的账户" in body_text(citizen)

        # 2. Real-name verification against the population registry: L2.
        citizen.get(server.public + "/account/realname/")
        fill(citizen, "name", person["name"])
        citizen.find_element(By.NAME, "id_number").send_keys(person["id_number"] + Keys.ENTER)
        wait_for(lambda: "L2" in body_text(citizen), "the L2 confirmation")

        # 3. TOTP: scan (read) the secret, confirm with a code; recovery codes are shown.
        citizen.get(server.public + "/account/security/totp/add/")
        secret = re.sub(r"\s+", "", citizen.find_element(By.CSS_SELECTOR, ".secret").text)
        totp = pyotp.TOTP(secret)
        citizen.find_element(By.NAME, "code").send_keys(totp.now() + Keys.ENTER)
        wait_for(lambda: citizen.find_elements(By.CSS_SELECTOR, ".recovery-codes"),
                 "the recovery codes")

        # 4. Sign out, then sign in to the portal with the password and TOTP.
        citizen.get(server.public + "/account/logout/")
        # Opening the login page before the post lands could cancel it.
        click_and_land(citizen, citizen.find_element(By.CSS_SELECTOR,
                                                     "main form button[type=submit]"),
                       "the sign-out")
        citizen.get(server.public + "/account/login/")
        wait_for(lambda: citizen.find_elements(By.NAME, "login"), "the sign-in form")
        fill(citizen, "login", PHONE)
        citizen.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
        wait_for(lambda: "/second-factor/" in citizen.current_url, "the second factor")
        if "method=totp" not in citizen.current_url and not citizen.find_elements(
                By.XPATH, "//input[@name='method' and @value='totp']"):
            citizen.get(server.public + "/account/login/second-factor/?method=totp")
        import time

        fill(citizen, "code", totp.at(time.time() + 30))  # the next step: codes work once
        submit_form_with(citizen, "action", "verify")
        wait_for(lambda: "/second-factor/" not in citizen.current_url, "signed in")
        citizen.get(server.public + "/account/")
        assert "L3" in body_text(citizen)

        # 5. An app an administrator registers in the workbench (pairwise subjects).
        with chromium() as admin:
            rp2_url, rp2_id, rp2_secret = register_in_workbench(server, admin)

        secret_file = server.data_dir / "secrets" / "example_rp_secret"
        with example_rp(server, client_id="example-rp", secret_file=secret_file,
                        url=server.example_rp_url) as rp1, \
                example_rp(server, client_id=rp2_id, secret=rp2_secret, url=rp2_url,
                           title="区住房补贴申报系统") as rp2:
            # 6. Both apps without signing in again.
            first = open_rp_signed_in(citizen, rp1)
            second = open_rp_signed_in(citizen, rp2)
            assert "L3" in first and "L3" in second
            sub = re.compile(r"^sub \"?([^\"\n]+)", re.MULTILINE)
            assert sub.search(first) and sub.search(second)
            assert sub.search(first).group(1) != sub.search(second).group(1), \
                "the pairwise app must see its own subject identifier"

            # 7. Signing out of one signs out of all.
            citizen.get(rp1 + "/")
            click_and_land(citizen, citizen.find_element(By.ID, "logout"), "the sign-out")
            wait_for(lambda: citizen.current_url.startswith(rp1)
                     and "未登录" in body_text(citizen), "signed out of the example app")
            citizen.get(server.public + "/account/")
            assert "/account/login/" in citizen.current_url, "the portal is signed out too"

            def rp2_signed_out() -> bool:
                citizen.get(rp2 + "/")
                return "未登录" in body_text(citizen)

            wait_for(rp2_signed_out, "back-channel logout of the workbench-registered app")
