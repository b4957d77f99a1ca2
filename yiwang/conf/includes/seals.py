"""Settings of the seals area (read from the environment through env())."""

from __future__ import annotations

from yiwang.conf.env import env

YIWANG_SEAL_FONT = env(
    "YIWANG_SEAL_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", group="Seals",
    doc="CJK TrueType font (a .ttc collection's first face is used) for seal pictures and the "
        "Chinese text of visible PDF stamps; the glyphs used are subset into each PDF.")
YIWANG_SEAL_MAX_PDF_BYTES = env(
    "YIWANG_SEAL_MAX_PDF_BYTES", 20 * 1024 * 1024, group="Seals",
    doc="Largest PDF accepted for sealing or validation (bytes): a larger upload is refused "
        "with a message (HTTP 413 at /api/v1/seals/validate, read from the stream in bounded "
        "steps, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply to it).")
YIWANG_SEAL_STEP_UP_SECONDS = env(
    "YIWANG_SEAL_STEP_UP_SECONDS", 300, group="Seals",
    doc="A custodian authorises a seal use only within this many seconds of a multi-factor "
        "sign-in or step-up; older sessions are sent to sign in again first.")
YIWANG_SEAL_DEFAULT_LEVEL = env(
    "YIWANG_SEAL_DEFAULT_LEVEL", "B-LT", group="Seals", choices=("B-B", "B-T", "B-LT"),
    doc="PAdES level of seals applied from the workbench: B-B (signature), B-T (plus a "
        "timestamp from yiwang's TSA), B-LT (plus the chain and CRLs, validates offline).")
YIWANG_SEAL_CERT_DAYS = env(
    "YIWANG_SEAL_CERT_DAYS", 730, group="Seals",
    doc="Validity of a new seal (its signing key and certificate), in days.")
YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE = env(
    "YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE", 30, group="Seals",
    doc="验章 requests one client address may make per minute (POST /api/v1/seals/validate "
        "on either listener and the workbench 验章 page); more get HTTP 429 with Retry-After "
        "(0: no limit).")
