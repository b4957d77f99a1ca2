"""Background work of the perception platform: roll-ups, retention, silent devices, and
the retry of alarm handlers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from yiwang.core.tasks.service import periodic, task
from yiwang.platform.perception import service


@periodic(name="perception.roll_up", every=timedelta(minutes=5))
def roll_up() -> dict[str, int]:
    """Hourly and daily roll-ups of the hours that received readings."""
    return service.roll_up()


@periodic(name="perception.prune", at="02:40")
def prune() -> dict[str, int]:
    """Delete raw readings and hourly roll-ups past their retention."""
    return service.prune()


@periodic(name="perception.check_absence", every=timedelta(minutes=1))
def check_absence() -> dict[str, Any]:
    """Raise absence alarms for devices that stopped reporting."""
    return service.check_absence()


@task(name="perception.deliver_alarm", max_retries=8)
def deliver_alarm(alarm_id: int) -> bool:
    """Run the alarm handlers again on an alarm whose handling failed."""
    return service.deliver_alarm(alarm_id)
