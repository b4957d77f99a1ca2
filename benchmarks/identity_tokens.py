"""Identity provider throughput per core, beside Keycloak's published sizing per vCPU.

Keycloak's sizing guide gives, per vCPU: 15 password logins/s, 200 client-credential grants/s
and 120 token refreshes/s. This measures yiwang's on this machine with the server pinned to
ONE core (``taskset -c 0``, one gunicorn gthread worker with one thread) and the load
generator on another:

- client-credential grants/s (POST /oidc/token/, grant_type=client_credentials, HTTP Basic);
- token refreshes/s (POST /oidc/token/, grant_type=refresh_token; each refresh rotates, so
  every worker thread follows its own chain of refresh tokens);
- password logins/s (GET the sign-in page, POST the password form → signed in), with the
  Argon2id cost stated;
- userinfo p99 latency at 32 concurrent clients (wrk).

The database is a throwaway SQLite one under var/ (the embedded default). One server thread
is enough on one core with SQLite: more threads only take turns at the GIL and at SQLite's
single write lock, and add no throughput (``--server-threads 4`` to compare). Each figure
is given twice: per second of wall time, and per second of CPU time the server used, which
moves less when something else runs on the machine (on this shared VM the figures still
vary by +-15 % from run to run).

    .venv/bin/python benchmarks/identity_tokens.py [--duration 20] [--only cc,refresh]

``BENCH_PY_SPY=out.txt`` (py-spy on PATH) records a raw profile of the worker during the
refresh run.

Goals (issue 3): >= 2x Keycloak for refresh and client credentials.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.web_throughput import free_port  # noqa: E402

KEYCLOAK = {"client credentials": 200.0, "token refresh": 120.0, "password login": 15.0}

SETUP = r"""
import json, os, sys
import django
django.setup()
from urllib.parse import parse_qs, urlparse
import base64, hashlib, secrets
from django.conf import settings
from django.contrib.auth import get_user_model
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client
from yiwang.platform.zones.testing import ListenerClient

n_chains = int(sys.argv[1])
User = get_user_model()
admin = identity.create_official("bench.admin", "基准管理员", password="bench-Admin-pass-1")
cc, cc_secret = identity.register_relying_party(
    name="bench client credentials", client_type="confidential",
    redirect_uris="http://127.0.0.1:9/cb", allowed_scopes="openid profile",
    allow_client_credentials=True, actor=admin)
code_rp, code_secret = identity.register_relying_party(
    name="bench code", client_type="confidential", redirect_uris="http://127.0.0.1:9/cb",
    allowed_scopes="openid profile", first_party=True, actor=admin)
user = User.objects.create_user("bench.citizen", password="bench-Citizen-pass-1",
                                display_name="张*")
login_user = User.objects.create_user("bench.login", password="bench-Login-pass-1")

browser = ListenerClient(settings.YIWANG_PUBLIC_PORT, HTTP_HOST="127.0.0.1")
sign_in_client(browser, user, amr=("pwd",))
refresh_tokens, access_token = [], None
for chain in range(n_chains + 1):  # the last chain's access token is for userinfo
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    response = browser.get("/oidc/authorize/", {
        "response_type": "code", "client_id": code_rp.client_id, "scope": "openid profile",
        "redirect_uri": "http://127.0.0.1:9/cb", "code_challenge": challenge,
        "code_challenge_method": "S256", "state": "s", "nonce": "n"})
    assert response.status_code == 302, (response.status_code, response.content[:500])
    code = parse_qs(urlparse(response["Location"]).query)["code"][0]
    auth = base64.b64encode(f"{code_rp.client_id}:{code_secret}".encode()).decode()
    token = browser.post("/oidc/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/cb",
        "code_verifier": verifier}, HTTP_AUTHORIZATION="Basic " + auth)
    assert token.status_code == 200, token.content
    body = json.loads(token.content)
    if chain < n_chains:
        refresh_tokens.append(body["refresh_token"])
    else:
        access_token = body["access_token"]
print(json.dumps({
    "cc": [cc.client_id, cc_secret], "code": [code_rp.client_id, code_secret],
    "refresh_tokens": refresh_tokens, "access_token": access_token,
    "argon2": [settings.YIWANG_ARGON2_TIME_COST, settings.YIWANG_ARGON2_MEMORY_KIB],
}))
"""


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class Load:
    """Run ``action(conn, state)`` in ``threads`` threads for ``duration`` seconds."""

    def __init__(self, port: int, threads: int, duration: float, server_pid: int) -> None:
        self.port, self.threads, self.duration = port, threads, duration
        self.server_pid = server_pid

    def run(self, action, states) -> tuple[float, float, int, float]:  # type: ignore[no-untyped-def]
        """Requests/s, p99 latency (ms), errors and requests per server CPU-second."""
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        stop = time.perf_counter() + self.duration

        def worker(state) -> None:  # type: ignore[no-untyped-def]
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            mine = []
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    ok = action(conn, state)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    ok = False
                if ok:
                    mine.append(time.perf_counter() - started)
                else:
                    with lock:
                        errors[0] += 1
                    if errors[0] > 50:
                        return
            with lock:
                latencies.extend(mine)

        started, cpu_before = time.perf_counter(), cpu_seconds(self.server_pid)
        pool = [threading.Thread(target=worker, args=(s,)) for s in states[: self.threads]]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(self.server_pid) - cpu_before
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 100 else 0.0
        return len(latencies) / elapsed, p99, errors[0], len(latencies) / cpu if cpu else 0.0


def post_form(conn: http.client.HTTPConnection, path: str, fields: dict[str, str],
              headers: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    body = urllib.parse.urlencode(fields)
    conn.request("POST", path, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    response = conn.getresponse()
    return response.status, response.read(), response


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def client_credentials(data: dict) -> tuple:  # type: ignore[type-arg]
    auth = basic(*data["cc"])

    def action(conn, _state) -> bool:  # type: ignore[no-untyped-def]
        status, body, _r = post_form(conn, "/oidc/token/", {"grant_type": "client_credentials",
                                                           "scope": "profile"},
                                     {"Authorization": auth})
        return status == 200 and b"access_token" in body

    return action, [None] * 64


def refresh(data: dict, threads: int) -> tuple:  # type: ignore[type-arg]
    auth = basic(*data["code"])
    tokens = data["refresh_tokens"]
    states = [{"token": tokens[i]} for i in range(min(threads, len(tokens)))]

    def action(conn, state) -> bool:  # type: ignore[no-untyped-def]
        status, body, _r = post_form(conn, "/oidc/token/", {
            "grant_type": "refresh_token", "refresh_token": state["token"]},
            {"Authorization": auth})
        if status != 200:
            return False
        state["token"] = json.loads(body)["refresh_token"]
        return True

    return action, states


def password_login(_data: dict) -> tuple:  # type: ignore[type-arg]
    def action(conn, _state) -> bool:  # type: ignore[no-untyped-def]
        conn.request("GET", "/account/login/")
        response = conn.getresponse()
        page = response.read().decode()
        cookies = "; ".join(c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or [])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or not token:
            return False
        status, _body, result = post_form(
            conn, "/account/login/",
            {"csrfmiddlewaretoken": token.group(1), "login": "bench.login",
             "password": "bench-Login-pass-1"},
            {"Cookie": cookies, "Referer": f"http://127.0.0.1:{conn.port}/account/login/"})
        signed_in = any(c.startswith("yiwang_public=")
                        for c in result.headers.get_all("Set-Cookie") or [])
        return status == 302 and signed_in

    return action, [None] * 64


def wrk_userinfo(port: int, token: str, duration: int) -> tuple[float, float, int]:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t2", "-c32", f"-d{duration}s", "--latency",
         "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}/oidc/userinfo/"],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"userinfo: {non2xx.group(1)} error responses")
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8, help="load-generator threads")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--server-threads", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated: cc,refresh,login,userinfo")
    args = parser.parse_args()
    for tool in ("taskset", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install util-linux wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="identity-", dir=ROOT / "var")) if (
        ROOT / "var").exists() else Path(tempfile.mkdtemp(prefix="yiwang-identity-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("YIWANG_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"YIWANG_ENV": "demo", "YIWANG_DATA_DIR": str(data_dir), "YIWANG_ZONE": "public",
                "YIWANG_PUBLIC_PORT": str(port), "YIWANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "YIWANG_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "yiwang.conf.settings",
                # Sign-in limits protect people, not benchmarks: one address logs in here.
                "YIWANG_LOCKOUT_ADDRESS_FAILURES": "1000000"})
    try:
        subprocess.run([sys.executable, "-m", "yiwang", "migrate", "--noinput"], env=env,
                       cwd=ROOT, check=True, capture_output=True)
        setup = subprocess.run([sys.executable, "-c", SETUP, str(args.threads)], env=env,
                               cwd=ROOT, check=True, capture_output=True, text=True)
        data = json.loads(setup.stdout.strip().splitlines()[-1])
        command = [sys.executable, "-m", "gunicorn", "yiwang.wsgi:application",
                   "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
                   "--workers", str(args.server_workers), "--threads", str(args.server_threads),
                   "--log-level", "warning"]
        server = subprocess.Popen(["taskset", "-c", "0", *command], env=env, cwd=ROOT)
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.3)
            os.sched_setaffinity(0, {1})
            load = Load(port, args.threads, args.duration, server.pid)
            only = set(filter(None, args.only.split(","))) or {"cc", "refresh", "login", "userinfo"}
            results = {}
            if "cc" in only:
                results["client credentials"] = load.run(*client_credentials(data))
            if "refresh" in only:
                spy = None
                if os.environ.get("BENCH_PY_SPY"):  # profile the worker: py-spy must be on PATH
                    worker = (Path(f"/proc/{server.pid}/task/{server.pid}/children")
                              .read_text().split()[0])
                    spy = subprocess.Popen(["py-spy", "record", "-p", worker, "-o",
                                            os.environ["BENCH_PY_SPY"], "-f", "raw",
                                            "-d", str(args.duration)])
                results["token refresh"] = load.run(*refresh(data, args.threads))
                if spy:
                    spy.wait()
            if "login" in only:
                results["password login"] = load.run(*password_login(data))
            userinfo = None
            if "userinfo" in only:
                cpu_before = cpu_seconds(server.pid)
                userinfo = wrk_userinfo(port, data["access_token"], args.duration)
                userinfo_cpu = userinfo[2] / (cpu_seconds(server.pid) - cpu_before)
        finally:
            server.terminate()
            server.wait()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    t, m = data["argon2"]
    print(f"\nserver: 1 gunicorn gthread worker x {args.server_threads} threads pinned to one "
          f"core; load: {args.threads} threads on another core; {args.duration} s each; SQLite")
    print(f"password hash: Argon2id t={t}, m={m} KiB ({m / 1024:.0f} MiB), p=1\n")
    print("yiwang/s: requests per second of wall time with the server pinned to one core;")
    print("per CPU-s: requests per second of CPU time the server used (user + system), which")
    print("does not depend on what else the machine is doing.\n")
    print(f"{'figure (per core)':<24}{'yiwang/s':>10}{'per CPU-s':>11}{'p99 ms':>9}{'errors':>8}"
          f"{'Keycloak/s':>12}{'ratio':>8}{'ratio CPU':>11}{'goal':>7}")
    for name, (rate, p99, errors, per_cpu) in results.items():
        goal = "2.00" if name != "password login" else "-"
        print(f"{name:<24}{rate:>10.0f}{per_cpu:>11.0f}{p99:>9.1f}{errors:>8}"
              f"{KEYCLOAK[name]:>12.0f}{rate / KEYCLOAK[name]:>8.2f}"
              f"{per_cpu / KEYCLOAK[name]:>11.2f}{goal:>7}")
    if userinfo:
        print(f"{'userinfo (wrk, 32 conn)':<24}{userinfo[0]:>10.0f}{userinfo_cpu:>11.0f}"
              f"{userinfo[1]:>9.1f}{'':>8}{'-':>12}{'-':>8}{'-':>11}{'-':>7}")


if __name__ == "__main__":
    main()
