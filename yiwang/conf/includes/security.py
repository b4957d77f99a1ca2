"""Secrets, hosts, cookies and headers. Safe by default; production refuses to guess."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from yiwang.conf.env import ConfigError, env, kept_in_file
from yiwang.conf.includes.base import DATA_DIR, DEBUG, YIWANG_ENV

_GENERATES_OWN_SECRETS = YIWANG_ENV in {"demo", "development", "test"}


def _kept_secret(variable: str, filename: str, make: str) -> str:
    """The secret from the environment, else (outside production) one generated and kept."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    if not _GENERATES_OWN_SECRETS:
        raise ConfigError(
            variable,
            "not set. Production needs it: set it in the environment, or set "
            "YIWANG_ENV=demo for a demonstration instance that generates its own.",
        )
    return kept_in_file(Path(DATA_DIR) / "secrets" / filename, make)


env("SECRET_KEY", None, group="Security", show_default="(generated in demo)",
    doc="Django's signing key. Required in production; demo and development instances "
        "generate one and keep it in `YIWANG_DATA_DIR/secrets/`.")
SECRET_KEY = _kept_secret("SECRET_KEY", "secret_key", secrets.token_urlsafe(50))

env("YIWANG_DATA_KEYS", None, group="Security", show_default="(generated in demo)",
    doc="Keys for personal data encrypted at rest: comma-separated `id:base64(32 bytes)`; "
        "the first encrypts, all decrypt (rotate by prepending a new key and running "
        "`yiwang rotate-data-keys`). Required in production.")
YIWANG_DATA_KEYS = _kept_secret(
    "YIWANG_DATA_KEYS", "data_keys",
    "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
)

YIWANG_KEY_VAULT = env(
    "YIWANG_KEY_VAULT", "software", group="Security",
    doc="Where private signing keys live: `software` (PKCS#8 wrapped with AES-256-GCM, or "
        "SM4-GCM when YIWANG_DATA_CIPHER is `sm4-gcm`, under YIWANG_KEY_MASTER, stored in "
        "the database) or the name of an HSM/KMS vault plugin.",
)

env("YIWANG_KEY_MASTER", None, group="Security", show_default="(generated in demo)",
    doc="Master keys of the software key vault: comma-separated `id:base64(32 bytes)`; the "
        "first wraps new signing keys, all unwrap (rotate by prepending a new key and running "
        "`yiwang rotate-key-master`). Required in production.")
YIWANG_KEY_MASTER = _kept_secret(
    "YIWANG_KEY_MASTER", "key_master",
    "m1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
)

ALLOWED_HOSTS = env(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"], group="Security",
    doc="Host names this instance answers to.",
)
YIWANG_TRUSTED_PROXIES: list[str] = env(
    "YIWANG_TRUSTED_PROXIES", [], group="Security", cast=list,
    doc="Addresses or CIDR ranges of reverse proxies in front of yiwang. From them the "
        "client's address is taken from X-Forwarded-For (the right-most hop that is not a "
        "trusted proxy: for audit, throttles and rate limits) and a well-formed X-Request-ID "
        "is kept (one id from the gateway to the audit log); from anyone else both headers "
        "are ignored.",
)
CSRF_TRUSTED_ORIGINS: list[str] = env(
    "CSRF_TRUSTED_ORIGINS", [], group="Security", cast=list,
    doc="Origins (scheme://host:port) trusted for cross-origin form posts.",
)
_HTTPS = env("YIWANG_HTTPS", False, group="Security",
             doc="The instance is served over HTTPS (behind a TLS proxy): secure cookies, HSTS.")
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_HSTS_SECONDS = 31536000 if _HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _HTTPS else None
SESSION_COOKIE_NAME = "yiwang_session"  # renamed per zone: yiwang_public, yiwang_internal
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env("YIWANG_SESSION_AGE", 8 * 3600, group="Security",
                         doc="Seconds a signed-in session lasts.")
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if DEBUG and YIWANG_ENV == "production":
    raise ConfigError("DEBUG", "must not be on when YIWANG_ENV=production")

YIWANG_DATA_CIPHER = env(
    "YIWANG_DATA_CIPHER", "aes-256-gcm", group="Security", choices=("aes-256-gcm", "sm4-gcm"),
    doc="Cipher for personal data at rest. Changing it needs `yiwang rotate-data-keys`.",
)
env("YIWANG_INDEX_KEY", None, group="Security", show_default="(generated in demo)",
    doc="base64(32 bytes) key for blind indexes (lookups in encrypted columns, e.g. by ID "
        "number). Separate from the data keys so that rotating those never breaks lookups; "
        "changing it needs every index recomputed. Required in production.")
YIWANG_INDEX_KEY = _kept_secret(
    "YIWANG_INDEX_KEY", "index_key", base64.b64encode(secrets.token_bytes(32)).decode(),
)
