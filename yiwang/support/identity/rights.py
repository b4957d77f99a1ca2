"""Snapshots of what an account may do, valid across processes through ``access_version``.

Deciding whether an official may act costs several queries (Django's permissions: the
account's and its groups'; the memberships, positions and units behind the official's
scope) and every request of the workbench and the internal API asks. The answers change
rarely, so each process keeps them per account, keyed by :attr:`User.access_version` — a
column loaded with the account on every request (with its session) — and by the day
(memberships start and end on dates, with no write at midnight).

Every change that can alter an answer gives the accounts it touches a new random
``access_version`` in the same transaction (the receivers below, connected when the app is
ready): groups joined or left, permissions granted or withdrawn (to an account or to a
group), groups and permissions deleted, memberships, positions and departments written or
deleted. The next request of the account, in whatever process, reads the new value and
finds no snapshot for it. Only the process making the change also forgets its own
snapshots of those accounts at once (for account objects loaded before the change).

Known limit (review 2026-11-28 L1): an account object loaded *before* a change, checked
*inside* the transaction that makes the change, keeps that answer under its old version in
this process should the transaction then roll back. Requests load the account fresh, and no
view checks rights after changing them in the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_save,
    pre_delete,
    pre_save,
)
from django.utils import timezone

from yiwang.platform.orgs import service as orgs
from yiwang.support.identity.models import User, new_access_version

T = TypeVar("T")

MAX_SNAPSHOTS = 20_000

_lock = threading.Lock()
_snapshots: dict[tuple[str, int], tuple[int, date, Any]] = {}


def snapshot(user: Any, name: str, compute: Callable[[], T]) -> T:
    """``compute()``'s answer about ``user`` (an account loaded from the database), kept in
    this process while the account's ``access_version`` and the day stay the same.

    ``compute`` must depend only on the account's row, groups, permissions and the orgs'
    memberships, positions and departments — what changes ``access_version``."""
    version = getattr(user, "access_version", None)
    pk = getattr(user, "pk", None)
    if version is None or pk is None:
        return compute()
    day = timezone.localdate()
    key = (name, pk)
    found = _snapshots.get(key)
    if found is not None and found[0] == version and found[1] == day:
        kept: T = found[2]
        return kept
    value = compute()
    with _lock:
        if len(_snapshots) >= MAX_SNAPSHOTS:
            _snapshots.clear()  # rare; cheaper than tracking use, and simply recomputed
        _snapshots[key] = (version, day, value)
    return value


def _forget(pks: Iterable[int] | None) -> None:
    with _lock:
        if pks is None:
            _snapshots.clear()
            return
        wanted = set(pks)
        for key in [key for key in _snapshots if key[1] in wanted]:
            _snapshots.pop(key, None)


def bump(user_ids: Any) -> None:
    """Give the accounts ``user_ids`` (pks, or a values query of them; None: every account
    with a membership, for a change in the departments' tree) a new ``access_version``."""
    if user_ids is None:
        accounts = User.objects.filter(pk__in=orgs.Membership.objects.values("user_id"))
        _forget(None)
    elif isinstance(user_ids, (list, set, tuple, frozenset)):
        ids = [pk for pk in user_ids if pk is not None]
        if not ids:
            return
        accounts = User.objects.filter(pk__in=ids)
        _forget(ids)
    else:  # a query of user ids: resolved by the database, forget them all here
        accounts = User.objects.filter(pk__in=user_ids)
        _forget(None)
    accounts.update(access_version=new_access_version())


# --- what changes an account's rights ----------------------------------------------------------

def _members_of_groups(groups: Any) -> Any:
    return User.groups.through.objects.filter(group__in=groups).values("user_id")


def _holders_of(permissions: Any) -> list[int]:
    direct = User.user_permissions.through.objects.filter(permission__in=permissions)
    via = User.groups.through.objects.filter(
        group__in=Group.permissions.through.objects.filter(permission__in=permissions)
        .values("group_id"))
    return list({*direct.values_list("user_id", flat=True), *via.values_list("user_id",
                                                                             flat=True)})


def _on_m2m(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any,
            **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if sender is User.groups.through or sender is User.user_permissions.through:
        if not reverse:  # account.groups / account.user_permissions
            bump([instance.pk])
        elif action == "pre_clear":  # group.user_set.clear(), permission.user_set.clear()
            field = "group" if sender is User.groups.through else "permission"
            bump(list(sender.objects.filter(**{field: instance})
                      .values_list("user_id", flat=True)))
        else:
            bump(list(pk_set or ()))
    elif sender is Group.permissions.through:
        if not reverse:  # group.permissions
            bump(_members_of_groups([instance.pk]))
        elif action == "pre_clear":  # permission.group_set.clear()
            bump(_holders_of([instance.pk]))
        else:
            bump(_members_of_groups(list(pk_set or ())))


def _on_group_deleted(sender: Any, instance: Group, **kwargs: Any) -> None:
    bump(list(User.groups.through.objects.filter(group=instance)
              .values_list("user_id", flat=True)))


def _on_permission_deleted(sender: Any, instance: Permission, **kwargs: Any) -> None:
    bump(_holders_of([instance.pk]))


def _on_membership(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump([instance.user_id])


def _before_membership(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A membership given to another account (the admin can change its holder): the account
    # that held it loses the department's scope too.
    if instance.pk is not None:
        held = (orgs.Membership.objects.filter(pk=instance.pk)
                .values_list("user_id", flat=True).first())
        if held is not None and held != instance.user_id:
            bump([held])


def _on_position(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Which position leads a department decides its members' supervision.
    bump(orgs.Membership.objects.filter(department_id=instance.department_id)
         .values("user_id"))


def _before_position(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A position moved to another department: the old department's members (its former
    # head among them) lose what the position gave them.
    if instance.pk is not None:
        was = (orgs.Position.objects.filter(pk=instance.pk)
               .values_list("department_id", flat=True).first())
        if was is not None and was != instance.department_id:
            bump(orgs.Membership.objects.filter(department_id=was).values("user_id"))


def _on_reordered(sender: Any, department: Any, **kwargs: Any) -> None:
    bump(orgs.Membership.objects.filter(department_id=department.pk).values("user_id"))


def _on_department(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A unit moved, activated or retired changes the supervision of whoever leads a
    # department above it, at any depth: every official is given a new version.
    bump(None)


def connect() -> None:
    """Connect the receivers (the identity app's ``ready``)."""
    for through in (User.groups.through, User.user_permissions.through,
                    Group.permissions.through):
        m2m_changed.connect(_on_m2m, sender=through,
                            dispatch_uid=f"yiwang.rights.m2m.{through._meta.label}")
    pre_delete.connect(_on_group_deleted, sender=Group, dispatch_uid="yiwang.rights.group")
    pre_delete.connect(_on_permission_deleted, sender=Permission,
                       dispatch_uid="yiwang.rights.permission")
    for model, receiver in ((orgs.Membership, _on_membership), (orgs.Position, _on_position),
                            (orgs.Department, _on_department)):
        label = model._meta.label
        post_save.connect(receiver, sender=model, dispatch_uid=f"yiwang.rights.save.{label}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"yiwang.rights.del.{label}")
    pre_save.connect(_before_membership, sender=orgs.Membership,
                     dispatch_uid="yiwang.rights.move.membership")
    pre_save.connect(_before_position, sender=orgs.Position,
                     dispatch_uid="yiwang.rights.move.position")
    orgs.positions_reordered.connect(_on_reordered, dispatch_uid="yiwang.rights.reorder")
