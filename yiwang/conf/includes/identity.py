"""Identity: password hashing, sign-in protection, one-time codes and the OIDC provider."""

from __future__ import annotations

from yiwang.conf.env import env
from yiwang.conf.includes.base import YIWANG_ENV
from yiwang.conf.includes.zones import YIWANG_PUBLIC_URL

# Argon2id first (new and re-hashed passwords); PBKDF2 verifies older hashes, which are
# upgraded on the next sign-in. Client secrets are long random strings, so a single keyed
# SHA-256 protects them as well as a slow hash would (and token requests stay fast).
PASSWORD_HASHERS = [
    "yiwang.support.identity.hashers.YiwangArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "yiwang.support.identity.hashers.ClientSecretHasher",
]
YIWANG_ARGON2_TIME_COST = env(
    "YIWANG_ARGON2_TIME_COST", 2, group="Identity",
    doc="Argon2id passes over memory for password hashes (with the memory cost below).")
YIWANG_ARGON2_MEMORY_KIB = env(
    "YIWANG_ARGON2_MEMORY_KIB", 19456, group="Identity",
    doc="Argon2id memory per password hash in KiB (OWASP's minimum is 19 MiB with 2 passes).")

YIWANG_API_BEARER_FAILURES_PER_MINUTE = env(
    "YIWANG_API_BEARER_FAILURES_PER_MINUTE", 30, group="Identity",
    doc="Refused bearer tokens per client address per minute on the citizen API before it "
        "answers 429 (valid tokens from the address keep working).")

YIWANG_LOCKOUT_ACCOUNT_FAILURES = env(
    "YIWANG_LOCKOUT_ACCOUNT_FAILURES", 5, group="Identity",
    doc="Failed sign-ins on one account within the window before it is locked for a while.")
YIWANG_LOCKOUT_ADDRESS_FAILURES = env(
    "YIWANG_LOCKOUT_ADDRESS_FAILURES", 20, group="Identity",
    doc="Failed sign-ins from one address within the window before it is slowed down.")
YIWANG_LOCKOUT_WINDOW_SECONDS = env(
    "YIWANG_LOCKOUT_WINDOW_SECONDS", 900, group="Identity",
    doc="Window over which sign-in failures are counted, and the first lockout's length "
        "(each further lockout doubles, up to a day).")

YIWANG_SMS_GATEWAY = env(
    "YIWANG_SMS_GATEWAY", "local", group="Identity",
    doc="SMS gateway plugin for one-time codes. `local` writes each message to "
        "`YIWANG_DATA_DIR/sms/outbox.jsonl` and the log instead of sending it.")
YIWANG_REALNAME_REGISTRY = env(
    "YIWANG_REALNAME_REGISTRY", "local", group="Identity",
    doc="Real-name verification plugin. `local` matches name and ID number against this "
        "instance's population registry (filled by the demo city).")
YIWANG_OTP_TTL_SECONDS = env("YIWANG_OTP_TTL_SECONDS", 300, group="Identity",
                             doc="Seconds an SMS one-time code stays valid.")
YIWANG_QR_LOGIN_TTL_SECONDS = env("YIWANG_QR_LOGIN_TTL_SECONDS", 120, group="Identity",
                                  doc="Seconds a sign-in QR code can be scanned.")

YIWANG_OIDC_ISSUER = env(
    "YIWANG_OIDC_ISSUER", YIWANG_PUBLIC_URL.rstrip("/"), group="Identity",
    show_default="YIWANG_PUBLIC_URL",
    doc="The OpenID Connect issuer: the public URL relying parties reach the provider at.")
YIWANG_OIDC_KEY_ROTATION_DAYS = env(
    "YIWANG_OIDC_KEY_ROTATION_DAYS", 90, group="Identity",
    doc="Days an ID-token signing key is used before the next one takes over (the old one "
        "stays published for a day after).")

# Test, demo and development relying parties run on this machine (tests/e2e, the
# example relying party): there loopback is allowed; elsewhere only what is listed.
YIWANG_OIDC_OUTBOUND_ALLOW = env(
    "YIWANG_OIDC_OUTBOUND_ALLOW",
    ["127.0.0.0/8", "::1", "localhost"] if YIWANG_ENV in ("test", "demo", "development")
    else [],
    group="Identity",
    show_default="(empty); 127.0.0.0/8,::1,localhost in test, demo and development",
    doc="Addresses (CIDRs) and host names the provider may call although its outbound rule "
        "refuses them: back-channel logout and sector identifier URIs of relying parties "
        "never reach loopback, link-local, shared (100.64.0.0/10), unspecified, multicast "
        "or reserved addresses otherwise. Public and private networks are always allowed; "
        "cloud metadata services (169.254.169.254, 100.100.100.200, fd00:ec2::254, ...) "
        "never, whatever this list says.")

YIWANG_DEMO_EXAMPLE_RP_URL = env(
    "YIWANG_DEMO_EXAMPLE_RP_URL", "http://127.0.0.1:8100", group="Identity",
    doc="Where the demo's example relying party (examples/relying_party/) runs; `yiwang demo` "
        "registers its redirect and back-channel logout URIs there.")

OIDC_SCOPES = {
    "openid": "OpenID Connect 登录 / sign in",
    "profile": "姓名与账户类型 / name and account type",
    "identity": "脱敏身份证号与认证等级 / masked ID number and assurance level",
    "phone": "脱敏手机号码 / masked phone number",
    "enterprise": "代表的企业 / the enterprise acted for",
    "official": "所在部门与岗位 / department and positions",
    "applications": "以本人名义办理办件 / the person's applications (API)",
    "licences": "本人名下的电子证照 / the person's licences (API)",
}

# Each process re-reads which signing key is active at most this often (a rotation in the
# process itself applies at once). Tests roll the database back between tests: no cache.
YIWANG_OIDC_KEY_CACHE_SECONDS = 0 if YIWANG_ENV == "test" else 30

OAUTH2_PROVIDER_APPLICATION_MODEL = "oidc.RelyingParty"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "yiwang.support.identity.oidc.validator.YiwangValidator",
    "OIDC_SERVER_CLASS": "yiwang.support.identity.oidc.server.S256OnlyServer",
    "SCOPES": OIDC_SCOPES,
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 8 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "CLIENT_SECRET_HASHER": "yiwang_client_secret",
    "OIDC_ISS_ENDPOINT": YIWANG_OIDC_ISSUER,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if YIWANG_ENV == "production" else ["http", "https"],
    # RFC 9700 (OAuth 2.0 Security BCP) behaviour now rather than with DOT 4.0: no implicit
    # or password grants, no "plain" PKCE, tokens stored only as hashes, and the issuer in
    # every authorization response (RFC 9207).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["public", "pairwise"],
}
