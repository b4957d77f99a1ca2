"""Record every write to yiwang's own models, and security events of django.contrib.auth."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import post_delete, post_save

# Models whose writes are bookkeeping, not business: auditing them would only add noise
# (job queue, heartbeats, sessions) or recurse (the audit log itself).
EXCLUDED_LABELS = {"audit", "tasks", "sessions", "contenttypes", "admin", "health"}


def _audited(sender: type[models.Model]) -> bool:
    meta = sender._meta
    if not getattr(sender, "audit_writes", True):  # bookkeeping; its events are recorded
        return False
    return (meta.app_label not in EXCLUDED_LABELS
            and (sender.__module__.startswith("yiwang.") or meta.app_label == "auth"))


def on_save(sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False,
            update_fields: Any = None, **kwargs: Any) -> None:
    if raw or not _audited(sender):
        return
    from yiwang.core.audit.service import holds_personal_data, record

    detail = {"fields": sorted(update_fields)} if update_fields else {}
    record("create" if created else "update", instance,
           personal_data=holds_personal_data(instance), detail=detail)


def on_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not _audited(sender):
        return
    from yiwang.core.audit.service import holds_personal_data, record

    record("delete", instance, personal_data=holds_personal_data(instance))


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from yiwang.core.audit.service import record

    record("auth.login", user, actor=user)


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from yiwang.core.audit.service import record

    if user is not None:
        record("auth.logout", user, actor=user)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None,
                    **kwargs: Any) -> None:
    from yiwang.core.audit.service import record

    # The attempted username is kept (it is what an investigator needs); never the password.
    record("auth.login_failed", detail={"username": str(credentials.get("username", ""))[:150]})


def connect() -> None:
    post_save.connect(on_save, dispatch_uid="yiwang.audit.save")
    post_delete.connect(on_delete, dispatch_uid="yiwang.audit.delete")
    user_logged_in.connect(on_login, dispatch_uid="yiwang.audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="yiwang.audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="yiwang.audit.login_failed")
