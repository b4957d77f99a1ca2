"""Fast, strict settings for the test suite."""

import os
import warnings

os.environ.setdefault("YIWANG_ENV", "test")
os.environ.setdefault("YIWANG_LOG_FORMAT", "text")

from yiwang.conf.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "yiwang.support.identity.hashers.ClientSecretHasher",
]
YIWANG_PAGE_CACHE_SECONDS = 0  # tests of the cache turn it on themselves
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
if not os.environ.get("DATABASE_URL"):
    # A file (not :memory:) so that worker and server subprocesses started by tests see the
    # same database; one per xdist worker.
    # The pid keeps concurrent runs (two engineers, or CI and a developer) apart.
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    _test_db: dict[str, object] = DATABASES["default"]  # noqa: F405
    _test_db["TEST"] = {"NAME": str(DATA_DIR / f"test-{_worker}-{os.getpid()}.sqlite3")}  # noqa: F405
warnings.filterwarnings(
    "error", r"DateTimeField .* received a naive datetime", RuntimeWarning, r"django\.db\.models"
)
