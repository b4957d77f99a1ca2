"""Trust figures (issue 4 names none for this part; these support the seal and issuance
figures): RFC 3161 time-stamp tokens per second in process and over the HTTP handler, a
department certificate issued per second, resolve_key latency for a local and an imported
key, and a trust list's publish time — each set against the raw ECDSA P-256 sign rate of the
same machine (a token, a certificate and a list each cost one ECDSA signature).

    .venv/bin/python benchmarks/trust.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(data_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiwang.conf.settings"
    os.environ["YIWANG_ENV"] = "test"
    os.environ["YIWANG_DATA_DIR"] = data_dir
    os.environ["YIWANG_LOG_FORMAT"] = "text"
    os.environ["YIWANG_LOG_LEVEL"] = "WARNING"
    os.environ["YIWANG_TSA_RATE_PER_MINUTE"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per CPU second of this process (steadier than wall clock on a shared box)."""
    operation()
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        operation()
        count += 1
    return count / (time.process_time() - start)


def latency_ms(operation: Callable[[], object], n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-trust-", dir="/tmp") as data_dir:
        setup_django(data_dir)
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from django.conf import settings

        from yiwang.core.crypto import service as crypto
        from yiwang.platform.orgs import service as orgs
        from yiwang.platform.regions import testing as regions_testing
        from yiwang.platform.zones.testing import ListenerClient
        from yiwang.support.trust import service as trust
        from yiwang.support.trust import tsa
        from yiwang.support.trust.tests.conftest import make_foreign_list

        regions_testing.make_chain(geometry=False)
        orgs.create_department("scjg", "市场监管局", region_code=regions_testing.CITY)
        trust.ensure_root_ca()
        trust.tsa_certificate()

        raw_key = ec.generate_private_key(ec.SECP256R1())
        raw = rate(lambda: raw_key.sign(b"x" * 200, ec.ECDSA(hashes.SHA256())), args.seconds)
        digest = hashlib.sha256(b"document").digest()
        in_process = rate(lambda: trust.timestamp(digest, nonce=1), args.seconds)
        client = ListenerClient(settings.YIWANG_PUBLIC_PORT)
        request = tsa.build_request(digest, nonce=7)
        over_http = rate(lambda: client.post("/trust/tsa", data=request,
                                             content_type="application/timestamp-query"),
                         args.seconds)

        def issue() -> None:
            key = crypto.create_signing_key(owner="scjg", purpose="seal",
                                            algorithm="ecdsa-p256")
            trust.certify_key(key.id, department_code="scjg", usage="seal")

        certificates = rate(issue, args.seconds)
        vc_key = crypto.create_signing_key(owner="scjg", purpose="licence.vc",
                                           algorithm="ed25519")
        trust.certify_key(vc_key.id, department_code="scjg", usage="licence")
        trust.authorise_issuer("scjg", "business_licence")
        foreign = make_foreign_list()
        trust.import_trust_list(foreign.raw, fingerprint=foreign.fingerprint)
        local_ref = trust.verification_method_id(vc_key.id)
        local = latency_ms(lambda: trust.resolve_key(local_ref), 500)
        imported = latency_ms(lambda: trust.resolve_key(foreign.vm_id), 500)
        by_kid = latency_ms(lambda: trust.resolve_key(foreign.kid), 500)
        start = time.perf_counter()
        trust.publish_trust_list()
        publish_ms = (time.perf_counter() - start) * 1000

        print(f"Trust figures, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f} (per CPU second of this process)\n")
        print(f"{'figure':<52}{'rate':>10}{'vs raw ECDSA sign':>20}")
        print(f"{'raw ECDSA P-256 sign (pyca), the baseline':<52}{raw:>10,.0f}{1:>19.2f}x")
        for name, value in (("time-stamp tokens in process (timestamp())", in_process),
                            ("time-stamp replies over POST /trust/tsa", over_http),
                            ("seal key + certificate (create, certify)", certificates)):
            print(f"{name:<52}{value:>10,.0f}{value / raw:>19.2f}x")
        print("\nresolve_key latency (500 calls): median / p99")
        for name, (p50, p99) in (("local licence key by verification method", local),
                                 ("imported key by verification method", imported),
                                 ("imported key by COSE kid", by_kid)):
            print(f"  {name:<48}{p50:>7.2f} ms{p99:>9.2f} ms")
        print(f"\npublish_trust_list (sign, store, ledger): {publish_ms:.0f} ms")


if __name__ == "__main__":
    main()
