"""Steps of two yiwang instances — two regions — recognising each other's licences (跨地区互认),
shared by e2e tests: a second instance started beside the session's demo server, the trust
core's demo data, and what the people involved do over HTTP (a holder downloading a licence
from the wallet, an administrator importing a trust list, an official revoking a licence).
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e import identity_steps
from tests.e2e.conftest import ROOT, Server, instance_env, wait_until_healthy, yiwang
from tests.e2e.identity_steps import (
    body_text,
    click_and_land,
    demo_password,
    fill,
    new_code,
    outbox,
    submit_form_with,
    wait_for,
)

QUIET = "q = lambda label, total: (lambda n: None)\n"

# The trust core's demo data (PKI, seals, licences), loaded the way `yiwang demo` will once
# the loader runs these phases; each is idempotent, so this is a no-op on a loaded demo.
TRUST_CORE_DEMO = QUIET + (
    "from yiwang.demo.trust import load_trust\n"
    "from yiwang.demo.seals import load_seals\n"
    "from yiwang.demo.licences import load_licences\n"
    "load_trust(q); load_seals(q); load_licences(q); load_seals(q); load_trust(q)\n"
)

# A region with no demo city: its administrator (the superuser `admin`, signing in with the
# demo password and an SMS code like the demo's) and its PKI with a published trust list.
BARE_REGION = QUIET + (
    "from django.contrib.auth import get_user_model\n"
    "from django.contrib.auth.hashers import make_password\n"
    "from yiwang.demo.loader import demo_password, official_phone\n"
    "from yiwang.demo.trust import load_trust\n"
    "from yiwang.support.identity import service as identity\n"
    "if not get_user_model().objects.filter(username='admin').exists():\n"
    "    identity.create_official('admin', '系统管理员', superuser=True,\n"
    "                             password_hash=make_password(demo_password()),\n"
    "                             phone=official_phone(0))\n"
    "load_trust(q)\n"
)


@contextmanager
def region_instance(data_dir: Path, *, region_code: str, region_name: str) -> Iterator[Server]:
    """Start a second yiwang speaking for another region: migrate, its administrator and
    PKI (``BARE_REGION``), serve; stopped with SIGTERM afterwards."""
    env = instance_env(data_dir, YIWANG_TRUST_REGION_CODE=region_code,
                       YIWANG_TRUST_REGION_NAME=region_name)
    yiwang("migrate", "--noinput", env=env)
    setup = yiwang("shell", "-c", BARE_REGION, env=env)
    process = subprocess.Popen([sys.executable, "-m", "yiwang", "serve"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    srv = Server(env["YIWANG_PUBLIC_URL"], env["YIWANG_INTERNAL_URL"], data_dir, env, process,
                 setup.stdout)
    try:
        wait_until_healthy(srv)
        yield srv
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


def load_trust_core_demo(server: Server) -> None:
    yiwang("shell", "-c", TRUST_CORE_DEMO, env=server.env)


# --- HTTP ---------------------------------------------------------------------------------

def http(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def cookie_header(browser: Any) -> str:
    """The browser's cookies for the page it shows, as a Cookie header."""
    return "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())


def verify_on(server: Server, kind: str, item: Any) -> dict[str, Any]:
    """POST /api/v1/licences/verify on ``server``'s public listener (as any relying party)."""
    body: dict[str, Any] = {"kind": kind}
    if kind == "vc":
        body["credential"] = item
    elif kind == "qr":
        body["qr"] = item
    else:
        body["pdf"] = base64.b64encode(item).decode("ascii")
    status, raw = http(server.public + "/api/v1/licences/verify",
                       data=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"})
    assert status in (200, 400), (status, raw[:500])
    result = dict(json.loads(raw))
    result["http_status"] = status
    return result


def check(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The checks called ``name`` in a verification result."""
    return [c for c in result["checks"] if c["name"] == name]


def passed(result: dict[str, Any], name: str) -> bool:
    found = check(result, name)
    return bool(found) and all(c["ok"] for c in found)


def failed(result: dict[str, Any], name: str) -> bool:
    return any(not c["ok"] for c in check(result, name))


def messages(result: dict[str, Any], name: str) -> str:
    return " | ".join(c["message"] for c in check(result, name))


def offline_verify(bundle: Path, item: Path,
                   *status_lists: Path) -> subprocess.CompletedProcess[str]:
    """``python -m yiwang.verify --bundle … [--status-list …] item`` as a separate process."""
    args = [sys.executable, "-m", "yiwang.verify", "--bundle", str(bundle), "--json"]
    for path in status_lists:
        args += ["--status-list", str(path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "DJANGO"))}
    return subprocess.run([*args, str(item)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


# --- people -------------------------------------------------------------------------------

def sign_in_citizen(server: Server, browser: Any, username: str, *, next_url: str) -> None:
    """Sign in to the portal with the demo password (and an SMS code if one is asked for)."""
    browser.get(f"{server.public}/account/login/?next={next_url}")
    wait_for(lambda: browser.find_elements(By.NAME, "login"), "the sign-in form")
    fill(browser, "login", username)
    # one code a minute per account: a second sign-in of the same citizen (several
    # browser tests use citizen1) waits for the gateway's interval, as officials' do
    key = (server.public, username)
    wait = identity_steps._last_sms.get(key, 0.0) + identity_steps.SMS_INTERVAL - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    identity_steps._last_sms[key] = time.monotonic()
    seen = len(outbox(server))
    browser.find_element(By.NAME, "password").send_keys(demo_password(server) + Keys.ENTER)
    wait_for(lambda: "/account/login/" not in browser.current_url
             or "/second-factor/" in browser.current_url, "the page after the password")
    if "/second-factor/" in browser.current_url:
        if browser.find_elements(By.XPATH, "//form[.//input[@name='action' and @value='send']]"):
            seen = len(outbox(server))
            submit_form_with(browser, "action", "send")
        fill(browser, "code", new_code(server, seen))
        submit_form_with(browser, "action", "verify")
        wait_for(lambda: "/account/login/" not in browser.current_url, "signed in")


@dataclass
class Licence:
    pk: int
    vc: dict[str, Any]
    qr: str
    pdf: bytes

    @property
    def status_list_urls(self) -> list[str]:
        entries = self.vc.get("credentialStatus") or []
        entries = entries if isinstance(entries, list) else [entries]
        return [str(e["statusListCredential"]) for e in entries]


def download_from_wallet(server: Server, browser: Any, type_code: str) -> Licence:
    """The holder's first licence of ``type_code`` in the wallet, as its VC, QR text and PDF
    (downloaded with the holder's session, as the wallet's links do)."""
    browser.get(f"{server.public}/licences/?type={type_code}")
    links = wait_for(lambda: re.findall(r'href="/licences/(\d+)/"', browser.page_source),
                     f"a {type_code} licence in the wallet")
    return download(server, browser, int(links[0]))


def download(server: Server, browser: Any, pk: int) -> Licence:
    """Licence ``pk`` of the holder signed in to ``browser``: VC, QR text and PDF."""
    cookies = {"Cookie": cookie_header(browser)}
    base = f"{server.public}/licences/{pk}"
    got = {name: http(f"{base}/{name}", headers=cookies)
           for name in ("credential.json", "qr.svg?format=txt", "licence.pdf")}
    for name, (status, body) in got.items():
        assert status == 200, (name, status, body[:300])
    pdf = got["licence.pdf"][1]
    assert pdf.startswith(b"%PDF-")
    return Licence(pk, json.loads(got["credential.json"][1]),
                   got["qr.svg?format=txt"][1].decode().strip(), pdf)


def import_trust_list(server: Server, browser: Any, document: bytes,
                      fingerprint: str) -> str:
    """Paste a trust list and its fingerprint into 信任列表 on the workbench; the page text."""
    browser.get(server.internal + "/trust/lists/")
    wait_for(lambda: browser.find_elements(By.NAME, "pasted"), "the trust list import form")
    # Pasted as a person would paste it (send_keys of 100 kB is slow and mangles newlines).
    browser.execute_script("arguments[0].value = arguments[1];",
                           browser.find_element(By.NAME, "pasted"), document.decode("utf-8"))
    fill(browser, "fingerprint", fingerprint)
    click_and_land(browser, browser.find_element(
        By.XPATH, "//form[.//textarea[@name='pasted']]//button[@type='submit']"),
        "the page after the import")
    return body_text(browser)


def revoke_in_workbench(server: Server, browser: Any, pk: int, reason: str) -> str:
    """注销 a licence from its page on the workbench; the page text afterwards."""
    browser.get(f"{server.internal}/licences/{pk}/")
    wait_for(lambda: browser.find_elements(By.ID, "reason-revoke"), "the revoke form")
    browser.find_element(By.ID, "reason-revoke").send_keys(reason)
    click_and_land(browser, browser.find_element(
        By.XPATH, "//form[.//input[@id='reason-revoke']]//button[@type='submit']"),
        "the licence page after 注销")
    return body_text(browser)
