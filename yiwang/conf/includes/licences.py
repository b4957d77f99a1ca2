"""Settings of the licences area (read from the environment through env())."""

from __future__ import annotations

from yiwang.conf.env import env
from yiwang.conf.includes.base import YIWANG_ENV

YIWANG_LICENCES_MAX_UPLOAD_BYTES = env(
    "YIWANG_LICENCES_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, group="Licences",
    doc="Largest PDF, VC or QR text accepted by the licence verification page and API, in "
        "bytes; larger uploads are refused with a message before being read.")
YIWANG_LICENCES_SHARE_MAX_DAYS = env(
    "YIWANG_LICENCES_SHARE_MAX_DAYS", 30, group="Licences",
    doc="Longest time a holder's verification link (分享核验链接) may stay open, in days.")
YIWANG_LICENCES_STATUS_LIST_SIZE = env(
    "YIWANG_LICENCES_STATUS_LIST_SIZE", 131072, group="Licences",
    doc="Entries per W3C Bitstring Status List (the specification's minimum is 131,072, so "
        "that a licence's status index says little about the licence).")
YIWANG_LICENCES_SEAL_LEVEL = env(
    "YIWANG_LICENCES_SEAL_LEVEL", "B-LT", group="Licences",
    doc="PAdES level of the seal on issued licence PDFs: B-B, B-T (timestamped by yiwang's "
        "TSA) or B-LT (validation data embedded, so the PDF validates offline for years).")
YIWANG_LICENCES_STATUS_LIST_VALID_HOURS = env(
    "YIWANG_LICENCES_STATUS_LIST_VALID_HOURS", 24.0, group="Licences",
    doc="How long a signed status list credential of this instance is valid (its "
        "validUntil), in hours: an old copy cannot hide a revocation from an offline verifier "
        "for longer. Lists are signed again by the hourly task once past half of it, and when "
        "served close to it.")
YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE = env(
    "YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE", 60, group="Licences",
    doc="Verifications one client address may ask for per minute on the public verification "
        "page (/licences/verify/) and API (POST /api/v1/licences/verify), together; more get "
        "429 with Retry-After. 0 turns the limit off.")
YIWANG_LICENCES_TRUST_CACHE_SECONDS = env(
    "YIWANG_LICENCES_TRUST_CACHE_SECONDS", 10.0, group="Licences",
    doc="How long each process reuses the trust bundle (trusted keys, roots, CRLs) when "
        "verifying presented licences; a key revoked or imported elsewhere is seen after at "
        "most this long. 0 builds it for every verification.")

# Status lists of other regions (issuers on an imported trust list) are fetched over HTTP.
YIWANG_LICENCES_STATUS_CACHE_SECONDS = env(
    "YIWANG_LICENCES_STATUS_CACHE_SECONDS", 300.0, group="Licences",
    doc="How long a status list fetched from another region (the issuer's own "
        "statusListCredential URL) is reused, in seconds, and never past the list's "
        "validUntil: a revocation in that region is seen here after at most this long "
        "(licences.service.refresh_status_lists() fetches them again at once).")
YIWANG_LICENCES_STATUS_FETCH_TIMEOUT = env(
    "YIWANG_LICENCES_STATUS_FETCH_TIMEOUT", 5.0, group="Licences",
    doc="Longest a fetch of another region's status list may take altogether (connect, "
        "TLS, answer), in seconds; a slower one counts as unavailable (status unknown).")
YIWANG_LICENCES_STATUS_MAX_BYTES = env(
    "YIWANG_LICENCES_STATUS_MAX_BYTES", 512 * 1024, group="Licences",
    doc="Largest status list credential accepted from another region, in bytes.")
# Other regions' test and demo instances run on this machine (tests/e2e): loopback there.
YIWANG_LICENCES_STATUS_FETCH_ALLOW = env(
    "YIWANG_LICENCES_STATUS_FETCH_ALLOW",
    ["127.0.0.0/8", "::1", "localhost"] if YIWANG_ENV in ("test", "demo", "development")
    else [],
    group="Licences",
    show_default="(empty); 127.0.0.0/8,::1,localhost in test, demo and development",
    doc="Addresses (CIDRs) and host names a status list of another region may be fetched "
        "from although the outbound rule refuses them (loopback, link-local, shared "
        "100.64.0.0/10, reserved …). Public and private networks are always allowed, cloud "
        "metadata services never. Only URLs on the origin of an imported region's keys are "
        "fetched at all.")
