"""Alarms (告警): raised by rules while readings are stored, de-duplicated per device and
rule while open, cleared when the condition ends, acknowledged by people, and handed to
the modules that act on them (the city side opens a case) through registered handlers.

Handlers run in the transaction that raises the alarm, each in a savepoint, so an alarm
and the case it opens commit together (no alarm without its case, and the latency from a
reading to a dispatched case is one transaction). A handler that fails does not lose the
readings: its savepoint is rolled back, the error noted on the alarm, and a background
job (``perception.deliver_alarm``) retries it. Handlers must be idempotent.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.platform.perception.models import Alarm, Device, RuleKind
from yiwang.platform.perception.registry import DeviceSpec, RuleSpec, Snapshot

logger = logging.getLogger("yiwang.perception")

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
WORDS = {"gt": gettext_lazy("高于"), "ge": gettext_lazy("达到"), "lt": gettext_lazy("低于"),
         "le": gettext_lazy("不高于")}

Handler = Callable[[Alarm], "str | None"]
_handlers: dict[str, Handler] = {}


def register_handler(name: str, handler: Handler) -> None:
    """Call ``handler(alarm)`` for every alarm raised (and retried until it succeeds); it
    returns a reference to what it made of the alarm (``"case:2026…"``) or None."""
    _handlers[name] = handler


def unregister_handler(name: str) -> None:
    _handlers.pop(name, None)


@dataclass
class Outcome:
    raised: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _message(spec: DeviceSpec, rule: RuleSpec, measured: float) -> str:
    name, unit = spec.labels.get(rule.metric, (rule.metric, ""))
    if rule.kind == RuleKind.RATE:
        per = rule.seconds or 60
        text = _("%(device)s %(metric)s每%(per)s秒变化 %(value)s%(unit)s，"
                 "%(word)s %(limit)s%(unit)s")
        return text % {"device": spec.name, "metric": name, "per": per,
                       "value": _fmt(measured), "unit": unit, "word": WORDS[rule.operator],
                       "limit": _fmt(rule.value or 0)}
    text = _("%(device)s %(metric)s %(value)s%(unit)s，%(word)s阈值 %(limit)s%(unit)s")
    return text % {"device": spec.name, "metric": name, "value": _fmt(measured), "unit": unit,
                   "word": WORDS[rule.operator], "limit": _fmt(rule.value or 0)}


def _open(device_ids: Iterable[int]) -> dict[tuple[int, int | None], Alarm]:
    ids = list(device_ids)
    if not ids:
        return {}
    return {(a.device_id, a.rule_id): a for a in
            Alarm.objects.filter(device_id__in=ids, cleared_at__isnull=True,
                                 rule_id__isnull=False)}


def raise_alarm(spec: DeviceSpec, rule: RuleSpec, measured: float | None, message: str,
                now: datetime, grid_code: str = "") -> Alarm:
    alarm = Alarm.objects.create(
        device_id=spec.id, rule_id=rule.id, rule_name=rule.name, kind=rule.kind,
        metric=rule.metric, severity=rule.severity, message=message[:255], value=measured,
        last_value=measured, department_code=spec.department_code,
        grid_code=grid_code or spec.grid_code, district_code=spec.district_code,
        category_code=rule.category_code, started_at=now, last_at=now)
    logger.info("alarm raised: %s on %s (%s)", rule.name, spec.code, rule.severity)
    dispatch(alarm)
    return alarm


def dispatch(alarm: Alarm, *, retry_later: bool = True) -> bool:
    """Run the handlers on ``alarm`` (each in a savepoint); True when all succeeded. A
    failure is noted on the alarm and (``retry_later``) retried by the background job
    ``perception.deliver_alarm``."""
    ok = True
    refs = [r for r in alarm.handled_ref.split(",") if r]
    for name, handler in list(_handlers.items()):
        try:
            with transaction.atomic():
                ref = handler(alarm)
        except Exception as exc:  # a handler's failure must not lose the readings
            logger.exception("alarm handler %s failed on alarm %s", name, alarm.pk)
            alarm.handler_error = f"{name}: {exc}"[:255]
            ok = False
            continue
        if ref and ref not in refs:
            refs.append(ref)
    alarm.handled_ref = ",".join(refs)[:64]
    if ok:
        alarm.handler_error = ""
    Alarm.objects.filter(pk=alarm.pk).update(handled_ref=alarm.handled_ref,
                                             handler_error=alarm.handler_error)
    if not ok and retry_later:
        from yiwang.core.tasks.service import enqueue

        enqueue("perception.deliver_alarm", alarm.pk)
    return ok


def evaluate(snapshot: Snapshot,
             evaluations: list[tuple[DeviceSpec, Any, str, float, tuple[int, float] | None]],
             now: datetime) -> Outcome:
    """Apply the rules to the readings just stored (in device and time order). Alarms are
    raised and cleared at the time of the reading that shows it (never later than ``now``,
    a device's clock may run fast)."""
    received = now
    outcome = Outcome()
    watched = {spec.id for spec, _m, metric, _v, _p in evaluations
               if spec.rules_for(metric) or spec.absence_rules}
    if not watched:
        return outcome
    open_alarms = _open(watched)
    touched: dict[int, Alarm] = {}
    absence_cleared: set[int] = set()
    for spec, message, metric, value, previous in evaluations:
        if spec.id not in watched:
            continue
        # an alarm starts (and ends) when the reading that shows it was measured
        now = min(received, datetime.fromtimestamp(message.ts / 1000, tz=UTC))
        if spec.id not in absence_cleared:
            absence_cleared.add(spec.id)
            for rule in spec.absence_rules:
                alarm = open_alarms.pop((spec.id, rule.id), None)
                if alarm is not None:
                    _clear(alarm, now, outcome)
                    touched.pop(alarm.pk, None)
        for rule in spec.rules_for(metric):
            measured: float | None = value
            if rule.kind == RuleKind.RATE:
                if previous is None or message.ts <= previous[0]:
                    continue
                seconds = (message.ts - previous[0]) / 1000
                measured = (value - previous[1]) / seconds * (rule.seconds or 60)
            if measured is None or rule.value is None:
                continue
            compare = COMPARE[rule.operator]
            key = (spec.id, rule.id)
            alarm = open_alarms.get(key)
            if compare(measured, rule.value):
                if alarm is None:
                    grid = message.position[2] if message.position else ""
                    alarm = raise_alarm(spec, rule, measured, _message(spec, rule, measured),
                                        now, grid)
                    open_alarms[key] = alarm
                    outcome.raised.append(alarm.pk)
                else:
                    alarm.count += 1
                    alarm.last_value = measured
                    alarm.last_at = now
                    touched[alarm.pk] = alarm
                continue
            if alarm is None:
                continue
            limit = rule.value
            if rule.kind == RuleKind.THRESHOLD and rule.clear_value is not None:
                limit = rule.clear_value
            if not compare(measured, limit):
                alarm.last_value = measured
                _clear(alarm, now, outcome)
                open_alarms.pop(key)
                touched.pop(alarm.pk, None)
    for alarm in touched.values():
        Alarm.objects.filter(pk=alarm.pk).update(count=alarm.count, last_value=alarm.last_value,
                                                 last_at=alarm.last_at)
    return outcome


def _clear(alarm: Alarm, now: datetime, outcome: Outcome) -> None:
    alarm.cleared_at = now
    Alarm.objects.filter(pk=alarm.pk).update(cleared_at=now, last_value=alarm.last_value,
                                             count=alarm.count, last_at=alarm.last_at)
    outcome.cleared.append(alarm.pk)
    logger.info("alarm cleared: %s on device %s", alarm.rule_name, alarm.device_id)


def check_absence(snapshot: Snapshot, now: datetime | None = None) -> Outcome:
    """Raise absence alarms for devices silent longer than their absence rules allow."""
    now = now or timezone.now()
    outcome = Outcome()
    specs = [s for s in snapshot.devices.values() if s.active and s.absence_rules]
    if not specs:
        return outcome
    with transaction.atomic():
        open_alarms = _open(s.id for s in specs)
        seen = dict(Device.objects.filter(pk__in=[s.id for s in specs])
                    .values_list("pk", "last_seen_at"))
        created = dict(Device.objects.filter(pk__in=[s.id for s in specs])
                       .values_list("pk", "created_at"))
        for spec in specs:
            last = seen.get(spec.id) or created.get(spec.id)
            if last is None:
                continue
            for rule in spec.absence_rules:
                if (spec.id, rule.id) in open_alarms or not rule.seconds:
                    continue
                if now - last < timedelta(seconds=rule.seconds):
                    continue
                minutes = int((now - last).total_seconds() // 60)
                text = _("%(device)s 已 %(minutes)s 分钟无数据上报") % {
                    "device": spec.name, "minutes": minutes}
                alarm = raise_alarm(spec, rule, None, text, now)
                outcome.raised.append(alarm.pk)
    return outcome
