"""Signature rates of the trust core's algorithms, raw and through the key service.

For ``ed25519``, ``ecdsa-p256`` and ``sm2`` it measures signatures and verifications per
second on one thread — per CPU second of this process (see :func:`rate`), as ``openssl
speed`` reports them:

- through the raw algorithm plugin (``registry.get_signature(name).sign/verify``, key objects
  cached as in production);
- through the service (``crypto.service.sign_with_key`` — one SQLite lookup of the key's
  status, then the software vault — and ``verify_signature``).

Baselines: ``openssl speed -seconds 3 sm2`` on the same machine (goal: yiwang's SM2 verify
>= 80 % of OpenSSL's; measured in turns with yiwang's, best of ``--rounds``), and the raw
Ed25519 verify rate, printed for the licences benchmark, which compares Verifiable
Credential verification against it (goal there: >= 80 %).

    .venv/bin/python benchmarks/signatures.py [--seconds 1.5] [--rounds 2] [--no-openssl]

The database is a throwaway SQLite file; only the crypto and audit apps are migrated.
On this shared 2-core VM, where other work competes for the cores, figures still vary by
about +-15 % from run to run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ALGORITHMS = ("ed25519", "ecdsa-p256", "sm2")
MESSAGE = b'{"id":"urn:uuid:6a1f","type":"VerifiableCredential","licence":"330100"}' * 4


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per CPU second of ``operation`` over about ``seconds`` of CPU time.

    CPU time (this process's user + system), like ``openssl speed``, which divides by CPU
    user time unless given ``-elapsed``: the ratio then compares like with like, and other
    work on the machine moves the figures less than it moves wall-clock rates.
    """
    for _ in range(20):
        operation()
    count, batch = 0, 50
    start = time.process_time()
    while True:
        for _ in range(batch):
            operation()
        count += batch
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return count / elapsed


def openssl_sm2(seconds: int) -> tuple[float, float] | None:
    """OpenSSL's own (sign/s, verify/s) for SM2, or None without the CLI."""
    if shutil.which("openssl") is None:
        return None
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "sm2"],
                         capture_output=True, text=True, check=True).stdout
    # " 256 bits SM2 (CurveSM2)   0.0002s   0.0006s   4321.0   1620.0"
    match = re.search(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    return (float(match.group(1)), float(match.group(2))) if match else None


def setup_django(data_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    os.environ["YIWANG_ENV"] = "test"
    os.environ["YIWANG_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "crypto", verbosity=0)
    call_command("migrate", "audit", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5,
                        help="CPU seconds per measurement (default 1.5)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of `openssl speed -seconds 3 sm2` against yiwang's SM2 "
                             "verify, best of each (default 2)")
    parser.add_argument("--no-openssl", action="store_true", help="skip `openssl speed`")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yiwang-bench-sig-") as data_dir:
        setup_django(data_dir)
        from yiwang.core.crypto import registry, service

        rows: dict[str, dict[str, float]] = {}
        for name in ALGORITHMS:
            plugin = registry.get_signature(name)
            private = plugin.generate_key()
            public = plugin.public_key(private)
            signature = plugin.sign(private, MESSAGE)
            key = service.create_signing_key(owner="bench", purpose=f"bench.{name}",
                                             algorithm=name)
            key_signature = service.sign_with_key(key.id, MESSAGE)
            rows[name] = {
                "raw sign": rate(lambda p=plugin, k=private: p.sign(k, MESSAGE), args.seconds),
                "raw verify": rate(lambda p=plugin, k=public, s=signature:
                                   p.verify(k, MESSAGE, s), args.seconds),
                "service sign": rate(lambda k=key.id: service.sign_with_key(k, MESSAGE),
                                     args.seconds),
                "service verify": rate(lambda n=name, k=key.public_key, s=key_signature:
                                       service.verify_signature(n, k, MESSAGE, s),
                                       args.seconds),
            }

        # SM2 against OpenSSL: rounds taken in turn, best of each, so that a burst of other
        # work on the machine during one measurement does not decide the ratio.
        reference: tuple[float, float] | None = None
        sm2_key = service.active_signing_key("bench", "bench.sm2")
        assert sm2_key is not None
        sm2_signature = service.sign_with_key(sm2_key.id, MESSAGE)
        sm2_plugin = registry.get_signature("sm2")
        for _ in range(0 if args.no_openssl else args.rounds):
            measured = openssl_sm2(3)
            if measured is None:
                break
            reference = (max(measured[0], reference[0]) if reference else measured[0],
                         max(measured[1], reference[1]) if reference else measured[1])
            rows["sm2"]["raw verify"] = max(rows["sm2"]["raw verify"], rate(
                lambda: sm2_plugin.verify(sm2_key.public_key, MESSAGE, sm2_signature),
                args.seconds))
            rows["sm2"]["service verify"] = max(rows["sm2"]["service verify"], rate(
                lambda: service.verify_signature("sm2", sm2_key.public_key, MESSAGE,
                                                 sm2_signature), args.seconds))

    print(f"Signatures per CPU second, one thread, {len(MESSAGE)}-byte message "
          f"({args.seconds:g} CPU s per figure)\n")
    print(f"{'algorithm':<12}{'raw sign':>11}{'raw verify':>12}{'svc sign':>11}"
          f"{'svc verify':>12}{'svc/raw sign':>14}{'svc/raw verify':>16}")
    for name, r in rows.items():
        print(f"{name:<12}{r['raw sign']:>11,.0f}{r['raw verify']:>12,.0f}"
              f"{r['service sign']:>11,.0f}{r['service verify']:>12,.0f}"
              f"{r['service sign'] / r['raw sign']:>14.0%}"
              f"{r['service verify'] / r['raw verify']:>16.0%}")

    print("\nFigure                                   measured    baseline    ratio   goal")
    sm2 = rows["sm2"]
    if reference:
        ossl_sign, ossl_verify = reference
        print(f"{'SM2 verify (service) vs openssl speed':<40}{sm2['service verify']:>9,.0f}"
              f"{ossl_verify:>12,.0f}{sm2['service verify'] / ossl_verify:>9.0%}   >= 80%")
        print(f"{'SM2 verify (raw) vs openssl speed':<40}{sm2['raw verify']:>9,.0f}"
              f"{ossl_verify:>12,.0f}{sm2['raw verify'] / ossl_verify:>9.0%}   >= 80%")
        print(f"{'SM2 sign (raw) vs openssl speed':<40}{sm2['raw sign']:>9,.0f}"
              f"{ossl_sign:>12,.0f}{sm2['raw sign'] / ossl_sign:>9.0%}   (none)")
    else:
        print("openssl speed sm2: not measured")
    ed = rows["ed25519"]
    print(f"{'Ed25519 raw verify (VC baseline)':<40}{ed['raw verify']:>9,.0f}"
          f"{'':>12}{'':>9}   baseline for licences")


if __name__ == "__main__":
    main()
