"""Settings of the trust area (read from the environment through env()): the region's PKI,
the RFC 3161 time-stamp authority and the trust list."""

from __future__ import annotations

from yiwang.conf.env import env
from yiwang.conf.includes.base import YIWANG_ENV

YIWANG_TRUST_REGION_CODE = env(
    "YIWANG_TRUST_REGION_CODE", "339900000000", group="Trust",
    doc="Code of the region this instance speaks for in its trust list and certificates "
        "(12-digit division code; the demo city 示例市 by default).")
YIWANG_TRUST_REGION_NAME = env(
    "YIWANG_TRUST_REGION_NAME", "示例市", group="Trust",
    doc="Name of the region: O of every certificate subject and the trust list's region name.")
YIWANG_PKI_ROOT_ALGORITHM = env(
    "YIWANG_PKI_ROOT_ALGORITHM", "ecdsa-p256", group="Trust",
    doc="Signature algorithm of a new root CA key: `ecdsa-p256` or `sm2` (SM2 with SM3, "
        "OID 1.2.156.10197.1.501; pyHanko and most PDF readers do not validate SM2 chains).")
YIWANG_PKI_ROOT_VALID_DAYS = env(
    "YIWANG_PKI_ROOT_VALID_DAYS", 3650, group="Trust",
    doc="Days a new root CA certificate is valid.")
YIWANG_PKI_CERT_VALID_DAYS = env(
    "YIWANG_PKI_CERT_VALID_DAYS", 730, group="Trust",
    doc="Days a department signing certificate is valid (never past its key's or the root's "
        "end).")
YIWANG_PKI_CRL_VALID_HOURS = env(
    "YIWANG_PKI_CRL_VALID_HOURS", 168, group="Trust",
    doc="Hours from a CRL's thisUpdate to its nextUpdate; a new CRL is issued at each "
        "revocation and when half of this has passed.")
YIWANG_TSA_POLICY_OID = env(
    "YIWANG_TSA_POLICY_OID", "2.25.187343210546312931209934601711385629953", group="Trust",
    doc="Policy OID written into every time-stamp token (a UUID-based OID under 2.25 by "
        "default; set your own registered policy in production).")
YIWANG_TSA_MAX_REQUEST_BYTES = env(
    "YIWANG_TSA_MAX_REQUEST_BYTES", 4096, group="Trust",
    doc="Largest RFC 3161 request body accepted at /trust/tsa (a SHA-512 request is ~100 bytes).")
YIWANG_TSA_RATE_PER_MINUTE = env(
    "YIWANG_TSA_RATE_PER_MINUTE", 600, group="Trust",
    doc="Time-stamp requests one client address may make per minute at /trust/tsa "
        "(0: no limit).")
YIWANG_TRUST_LIST_VALID_DAYS = env(
    "YIWANG_TRUST_LIST_VALID_DAYS", 30, group="Trust",
    doc="Days from a trust list's issue to its nextUpdate; importers refuse it afterwards.")
YIWANG_TRUST_LIST_MAX_BYTES = env(
    "YIWANG_TRUST_LIST_MAX_BYTES", 2_000_000, group="Trust",
    doc="Largest trust list document accepted for import.")
# Imported regions' lists are fetched again from where they are published (trust.refresh).
YIWANG_TRUST_REFRESH_TIMEOUT = env(
    "YIWANG_TRUST_REFRESH_TIMEOUT", 10.0, group="Trust",
    doc="Longest the fetch of another region's trust list for the automatic refresh may take "
        "altogether (connect, TLS, answer), in seconds; a slower one is a failed refresh and "
        "the current import stays.")
YIWANG_TRUST_REFRESH_ALLOW = env(
    "YIWANG_TRUST_REFRESH_ALLOW",
    ["127.0.0.0/8", "::1", "localhost"] if YIWANG_ENV in ("test", "demo", "development")
    else [],
    group="Trust",
    show_default="(empty); 127.0.0.0/8,::1,localhost in test, demo and development",
    doc="Addresses (CIDRs) and host names another region's trust list may be fetched from "
        "although the outbound rule refuses them (loopback, link-local, shared "
        "100.64.0.0/10, reserved …). Public and private networks are always allowed, cloud "
        "metadata services never.")
