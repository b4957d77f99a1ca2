"""Core Django settings: paths, applications, middleware, templates, i18n."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from yiwang.conf.env import env

BASE_DIR = Path(__file__).resolve().parents[2]  # the yiwang package
PROJECT_DIR = BASE_DIR.parent

YIWANG_ENV = env(
    "YIWANG_ENV", "production", group="General",
    choices=("production", "demo", "development", "test"),
    doc="Deployment kind. `production` refuses to start without real secrets; `demo` and "
        "`development` generate and keep their own under `YIWANG_DATA_DIR`.",
)
DATA_DIR = Path(env(
    "YIWANG_DATA_DIR", str(PROJECT_DIR / "var"), group="General",
    show_default="./var",
    doc="Folder for the embedded database, uploaded files, generated keys and runtime state.",
))
DEBUG = env("DEBUG", False, group="General",
            doc="Django debug pages. Never enable in production.")

INSTALLED_APPS = [
    "yiwang.entry.workbench.admin_site.YiwangAdminConfig",  # django.contrib.admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # Swagger UI from its own static files, never a CDN
    # core (vertical systems: security, operations)
    "yiwang.core.audit",
    "yiwang.core.crypto",
    "yiwang.core.identifiers",
    "yiwang.core.masking",
    "yiwang.core.tasks",
    "yiwang.core.health",
    "yiwang.core.uploads",
    # platform (基础设施层)
    "yiwang.platform.zones",
    "yiwang.platform.regions",
    "yiwang.platform.orgs",
    "yiwang.platform.registry",
    "yiwang.platform.perception",
    # enablement (技术赋能层)
    "yiwang.enablement.ledger",
    "yiwang.enablement.forms",
    "yiwang.enablement.workflow",
    "yiwang.enablement.ai",
    # support (应用支撑层)
    "yiwang.support.trust",
    "yiwang.support.licences",
    "yiwang.support.seals",
    "yiwang.support.gis",
    "yiwang.support.identity",
    "yiwang.support.identity.oidc",
    "oauth2_provider",
    "yiwang.support.notify",
    "yiwang.support.payments",
    "yiwang.support.credit",
    "yiwang.support.search",
    "yiwang.support.assistant",
    # industry (行业应用层)
    "yiwang.industry.services",
    "yiwang.industry.city",
    "yiwang.industry.applications",
    # entry (用户入口层)
    "yiwang.entry.portal",
    "yiwang.entry.workbench",
    "yiwang.entry.api",
    # operations
    "yiwang.demo",
]

MIDDLEWARE = [
    "yiwang.core.health.middleware.RequestContextMiddleware",
    "yiwang.core.health.middleware.RejectNulMiddleware",
    "yiwang.platform.zones.middleware.ZoneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yiwang.platform.zones.middleware.ZoneSessionCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yiwang.core.i18n.LanguageFromUrlMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yiwang.support.identity.middleware.SessionLivenessMiddleware",
    "yiwang.core.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yiwang.core.health.middleware.SecurityHeadersMiddleware",
]

# Endpoints that callers authenticate with client credentials or bearer tokens, never with
# cookies: their requests skip the middleware that only serves browsers (static files,
# sessions, CSRF, the signed-in account, messages). See yiwang.core.health.handlers.
YIWANG_STATELESS_PATHS = (
    "/healthz",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/oidc/token/",
    "/oidc/userinfo/",
    "/oidc/introspect/",
    "/oidc/revoke/",
    "/oidc/jwks/",
)
# Whole subtrees with no cookie-based access: the ledger's API for auditors (inclusion and
# consistency proofs, entries, checkpoints; its internal router is empty and must stay so, a
# test checks), and Open311 (read-only, or an api_key for creating requests).
YIWANG_STATELESS_PREFIXES = ("/api/v1/ledger/", "/open311/v2/")
_BROWSER_ONLY_MIDDLEWARE = (
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yiwang.platform.zones.middleware.ZoneSessionCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yiwang.support.identity.middleware.SessionLivenessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)
# CommonMiddleware stays on the short stack: it is what checks the Host header against
# ALLOWED_HOSTS for every request (Django checks only when request.get_host() is called).
YIWANG_STATELESS_MIDDLEWARE = [m for m in MIDDLEWARE if m not in _BROWSER_ONLY_MIDDLEWARE]

ROOT_URLCONF = "yiwang.urls.public"
WSGI_APPLICATION = "yiwang.wsgi.application"
AUTH_USER_MODEL = "identity.User"
LOGIN_URL = "workbench:login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "workbench:login"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.platform.zones.context_processors.zone",
                "yiwang.support.notify.context.unread_notifications",
            ],
        },
    },
]

# i18n: Simplified Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS: list[Any] = [BASE_DIR / "static"]
# Front-end libraries from the npm registry (package.json; `make install` runs `npm ci`),
# served from node_modules under /static/vendor/ — never copied into the repository.
NODE_MODULES = Path(env(
    "YIWANG_NODE_MODULES", str(BASE_DIR.parent / "node_modules"), group="Zones and serving",
    show_default="node_modules beside the yiwang package",
    doc="Where `npm ci` installed the front-end libraries (Leaflet, ECharts).",
))
VENDOR = {"leaflet": "leaflet/dist", "echarts": "echarts/dist"}
STATICFILES_DIRS += [(f"vendor/{name}", NODE_MODULES / folder)
                     for name, folder in VENDOR.items() if (NODE_MODULES / folder).is_dir()]
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
