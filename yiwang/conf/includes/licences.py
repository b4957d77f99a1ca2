"""Settings of the licences area (read from the environment through env())."""

from __future__ import annotations

from yiwang.conf.env import env

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
YIWANG_LICENCES_TRUST_CACHE_SECONDS = env(
    "YIWANG_LICENCES_TRUST_CACHE_SECONDS", 10.0, group="Licences",
    doc="How long each process reuses the trust bundle (trusted keys, roots, CRLs) when "
        "verifying presented licences; a key revoked or imported elsewhere is seen after at "
        "most this long. 0 builds it for every verification.")
