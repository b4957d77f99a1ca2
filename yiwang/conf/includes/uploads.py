"""Settings of uploads and OCR (read from the environment through env()).

Not yet imported by ``yiwang/conf/settings.py``: until it is, the apps read each setting
with ``getattr(settings, name, default)`` and the same defaults.
"""

from __future__ import annotations

from yiwang.conf.env import env

YIWANG_UPLOADS_MAX_PIXELS = env(
    "YIWANG_UPLOADS_MAX_PIXELS", 40_000_000, group="Uploads",
    doc="Largest image accepted, in pixels (width × height), read from the image's header "
        "before decoding: larger images (and decompression bombs) are refused.")
YIWANG_UPLOADS_MAX_PDF_PAGES = env(
    "YIWANG_UPLOADS_MAX_PDF_PAGES", 50, group="Uploads",
    doc="Most pages an uploaded PDF may have.")
YIWANG_UPLOADS_MAX_PDF_OBJECTS = env(
    "YIWANG_UPLOADS_MAX_PDF_OBJECTS", 20_000, group="Uploads",
    doc="Most indirect objects an uploaded PDF may have (each is inspected for active "
        "content).")
YIWANG_UPLOADS_JPEG_QUALITY = env(
    "YIWANG_UPLOADS_JPEG_QUALITY", 90, group="Uploads",
    doc="JPEG quality of re-encoded photos (1–95).")
YIWANG_UPLOADS_UNCLAIMED_HOURS = env(
    "YIWANG_UPLOADS_UNCLAIMED_HOURS", 24, group="Uploads",
    doc="Uploads no submission has claimed are deleted after this many hours by the "
        "periodic task uploads.purge_unclaimed.")
YIWANG_UPLOADS_PER_10_MINUTES = env(
    "YIWANG_UPLOADS_PER_10_MINUTES", 30, group="Uploads",
    doc="Most uploads one owner (a person or an enterprise) may store in ten minutes; more "
        "are refused with a message to try again later. 0 turns the limit off.")
YIWANG_UPLOADS_UNCLAIMED_QUOTA_MB = env(
    "YIWANG_UPLOADS_UNCLAIMED_QUOTA_MB", 100, group="Uploads",
    doc="Most megabytes of uploads one owner may hold that no submission has claimed yet "
        "(they are deleted after YIWANG_UPLOADS_UNCLAIMED_HOURS); an upload past it is "
        "refused with a message to submit or wait. 0 turns the quota off.")
YIWANG_AI_OCR_THREADS = env(
    "YIWANG_AI_OCR_THREADS", 1, group="AI",
    doc="Threads onnxruntime may use for one OCR run (intra-op); OCR runs in the web "
        "process, so keep it below the number of cores.")
