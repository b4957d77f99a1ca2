from datetime import UTC, datetime, time, timedelta

import pytest

from yiwang.core.tasks import registry
from yiwang.core.tasks.periodic import following
from yiwang.core.tasks.registry import Schedule, periodic, task

pytestmark = pytest.mark.usefixtures("temp_registry")


def test_task_registers_under_its_name_and_stays_callable():
    @task(name="testing.add", max_retries=2, time_limit=7, queue="reports")
    def add(a: int, b: int = 1) -> int:
        """Add two numbers."""
        return a + b

    assert registry.get("testing.add") is add
    assert add(2, b=3) == 5
    assert add.__doc__ == "Add two numbers."
    assert (add.max_attempts, add.seconds_allowed, add.queue) == (3, 7, "reports")
    assert "reports" in registry.queues()


def test_defaults_come_from_settings(settings):
    settings.YIWANG_TASK_MAX_RETRIES = 4
    settings.YIWANG_TASK_TIME_LIMIT = 123

    @task(name="testing.defaults")
    def defaults() -> None: ...

    assert (defaults.max_attempts, defaults.seconds_allowed) == (5, 123)


def test_autodiscovery_registers_the_built_in_tasks():
    assert "tasks.echo" in registry.all_tasks()
    assert registry.all_periodic()["tasks.prune_jobs"].schedule == Schedule(at=time(3, 30))


@pytest.mark.parametrize("name", ["echo", "Tasks.Echo", "tasks.", "tasks.echo-now", "1x.y"])
def test_task_names_must_be_dotted_lower_case(name):
    with pytest.raises(ValueError, match="dotted lower case"):
        task(name=name)


def test_a_name_cannot_be_taken_twice_by_different_functions():
    @task(name="testing.once")
    def first() -> None: ...

    with pytest.raises(ValueError, match="already used"):
        @task(name="testing.once")
        def second() -> None: ...


def test_unknown_task_is_a_lookup_error_with_a_hint():
    with pytest.raises(LookupError, match=r"tasks\.py"):
        registry.get("testing.nothing")


def test_check_call_validates_signature_and_json():
    @task(name="testing.takes")
    def takes(region: str, *, limit: int = 10) -> None: ...

    assert takes.check_call(("110101",), {"limit": 3}) == (["110101"], {"limit": 3})
    assert takes.check_call(((1, 2),), {}) == ([[1, 2]], {})
    with pytest.raises(TypeError, match=r"testing\.takes"):
        takes.check_call((), {})
    with pytest.raises(TypeError, match="unexpected keyword"):
        takes.check_call(("x",), {"limits": 3})


@pytest.mark.parametrize(("value", "message"), [
    (datetime(2025, 1, 1, tzinfo=UTC), "isoformat"),
    ({1: "a"}, "dict key 1"),
    (float("nan"), "not a JSON number"),
    ({"a": [1, {"b": {2, 3}}]}, r"\['a'\]\[1\]\['b'\]: set"),
    (object(), "object is not JSON-serialisable"),
])
def test_as_json_names_the_culprit(value, message):
    with pytest.raises(TypeError, match=message):
        registry.as_json(value, "arg")


def test_periodic_needs_exactly_one_schedule_and_a_valid_time():
    with pytest.raises(ValueError, match="exactly one"):
        periodic(name="testing.p1")
    with pytest.raises(ValueError, match="exactly one"):
        periodic(name="testing.p2", every=timedelta(minutes=1), at="03:00")
    with pytest.raises(ValueError, match="HH:MM"):
        periodic(name="testing.p3", at="3am")
    with pytest.raises(ValueError, match="HH:MM"):
        periodic(name="testing.p4", at="24:00")
    with pytest.raises(ValueError, match="one second"):
        periodic(name="testing.p5", every=timedelta(milliseconds=10))


def test_periodic_functions_take_no_arguments():
    with pytest.raises(TypeError, match="no required arguments"):
        @periodic(name="testing.p6", every=timedelta(minutes=1))
        def needs(region: str) -> None: ...


def test_daily_schedule_is_in_shanghai_time():
    nightly = Schedule(at=time(3, 0))
    # 18:59 UTC is 02:59 in Shanghai: due in one minute, at 19:00 UTC.
    before = datetime(2025, 6, 1, 18, 59, tzinfo=UTC)
    assert nightly.next_after(before) == datetime(2025, 6, 1, 19, 0, tzinfo=UTC)
    # Exactly at 03:00 Shanghai the next run is the following night.
    at = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)
    assert nightly.next_after(at) == datetime(2025, 6, 2, 19, 0, tzinfo=UTC)
    assert nightly.describe() == "daily at 03:00 Asia/Shanghai"


def test_intervals_keep_their_rhythm_and_skip_missed_periods():
    every5 = Schedule(every=timedelta(minutes=5))
    due = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert following(every5, due, due + timedelta(seconds=2)) == due + timedelta(minutes=5)
    # A worker that was down for 23 minutes fires once, then keeps the 5-minute grid.
    assert following(every5, due, due + timedelta(minutes=23)) == due + timedelta(minutes=25)
