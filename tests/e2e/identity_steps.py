"""Steps a person takes with yiwang's identity pages in a real browser, shared by e2e tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium.common.exceptions import (
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.conftest import ROOT, Server

WAIT = 20.0
# An official's phone gets at most one SMS a minute (identity.sms.PER_MINUTE): when two
# tests sign the same official in on the same server within a minute, the second waits.
SMS_INTERVAL = 61.0
_last_sms: dict[tuple[str, str], float] = {}


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy.

    A page caught mid-navigation (a redirect chain, a form post) has no body or
    detached elements for a moment; those errors count as "not yet".
    """
    deadline = time.time() + timeout
    last_error: Exception | None = None
    while time.time() < deadline:
        try:
            value = check()
        except (NoSuchElementException, StaleElementReferenceException,
                JavascriptException) as exc:
            last_error, value = exc, None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}") from last_error


def outbox(server: Server) -> list[dict[str, Any]]:
    path = server.data_dir / "sms" / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def new_code(server: Server, seen: int) -> str:
    """The one-time code of the first SMS written after the outbox had ``seen`` messages."""
    def find() -> str | None:
        fresh = [m for m in outbox(server)[seen:] if m.get("template") == "otp"]
        return str(fresh[-1]["params"]["code"]) if fresh else None

    return str(wait_for(find, "an SMS code in the local outbox"))


def fill(browser: Any, name: str, value: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def click_and_land(browser: Any, element: Any, what: str) -> None:
    """Click ``element`` and wait until the browser shows a new, fully loaded page.

    ``click()`` returns before the navigation it starts; the old page (and its
    URL) stays visible until the first response that is not a redirect arrives.
    A mark left on the old document tells the two apart.
    """
    browser.execute_script("window.__yiwangOldPage = true;")
    element.click()
    wait_for(lambda: browser.execute_script(
        "return !window.__yiwangOldPage && document.readyState === 'complete';"), what)


def submit_form_with(browser: Any, name: str, value: str) -> None:
    """Click the submit button of the form holding ``<input name=name value=value>``."""
    click_and_land(browser, browser.find_element(
        By.XPATH, f"//form[.//input[@name='{name}' and @value='{value}']]//button[@type='submit']"
    ), f"the page after {name}={value}")


def body_text(browser: Any) -> str:
    return str(browser.find_element(By.TAG_NAME, "body").text)


def demo_password(server: Server) -> str:
    return (server.data_dir / "secrets" / "demo_password").read_text().strip()


def sign_in_official(server: Server, browser: Any, username: str, *,
                     start: str = "/login/") -> None:
    """Open the workbench, sign in at the provider with the password and an SMS code."""
    browser.get(server.internal + start)
    wait_for(lambda: "/account/login/" in browser.current_url, "the provider's sign-in page")
    fill(browser, "login", username)
    key = (server.internal, username)
    wait = _last_sms.get(key, 0.0) + SMS_INTERVAL - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    _last_sms[key] = time.monotonic()
    seen = len(outbox(server))
    browser.find_element(By.NAME, "password").send_keys(demo_password(server) + Keys.ENTER)
    wait_for(lambda: "/second-factor/" in browser.current_url, "the second-factor page")
    if browser.find_elements(By.XPATH, "//form[.//input[@name='action' and @value='send']]"
                                       "[.//input[@name='method' and @value='sms']]"):
        seen = len(outbox(server))
        submit_form_with(browser, "action", "send")
    fill(browser, "code", new_code(server, seen))
    submit_form_with(browser, "action", "verify")
    wait_for(lambda: browser.current_url.startswith(server.internal), "the workbench")


def registry_person_without_account(server: Server) -> dict[str, str]:
    """A demo-registry person (name, ID number) who has no account yet."""
    code = (
        "import json\n"
        "from yiwang.platform.registry import service as r\n"
        "from yiwang.support.identity.models import User\n"
        "from yiwang.core.crypto.service import blind_index\n"
        "for p in r.list_persons().filter(synthetic=True).order_by('-id')[:50]:\n"
        "    index = blind_index(p.id_number, 'identity.id_number')\n"
        "    if not User.objects.filter(id_number_index=index).exists():\n"
        "        print(json.dumps({'name': p.name, 'id_number': p.id_number}))\n"
        "        break\n"
    )
    out = subprocess.run([sys.executable, "-m", "yiwang", "shell", "-c", code], env=server.env,
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@contextmanager
def example_rp(server: Server, *, client_id: str, secret: str = "", secret_file: Path | None = None,
               url: str, title: str = "示例第三方应用") -> Iterator[str]:
    """Run examples/relying_party/app.py at ``url`` (http://127.0.0.1:<port>)."""
    port = url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "DJANGO"))}
    env.update({"RP_ISSUER": server.public, "RP_CLIENT_ID": client_id, "RP_PORT": port,
                "RP_BASE_URL": url, "RP_TITLE": title})
    if secret_file is not None:
        env["RP_CLIENT_SECRET_FILE"] = str(secret_file)
    else:
        env["RP_CLIENT_SECRET"] = secret
    process = subprocess.Popen([sys.executable, str(ROOT / "examples/relying_party/app.py")],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)

    def up() -> bool:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310
                return True
        except OSError:
            return process.poll() is not None

    try:
        wait_for(up, f"the example relying party at {url}")
        if process.poll() is not None:
            raise AssertionError(f"example relying party exited: {process.stdout.read()}")  # type: ignore[union-attr]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
