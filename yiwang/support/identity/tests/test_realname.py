"""Real-name verification: checksum, registry match, one person one account, throttling."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory

from yiwang.core.audit.service import AuditEvent
from yiwang.core.identifiers.service import generate_synthetic_id_number
from yiwang.support.identity import realname
from yiwang.support.identity.models import Level
from yiwang.support.identity.tests.test_signin_support import make_citizen, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def number() -> str:
    return make_person("李小明")


def refused(user, name: str, id_number: str, request=None) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        realname.verify_real_name(user, name=name, id_number=id_number, actor=user,
                                  request=request)
    return caught.value


def test_a_matching_name_and_number_make_the_account_l2(number: str) -> None:
    user = make_citizen()
    realname.verify_real_name(user, name=" 李小明 ", id_number=number.lower(), actor=user)
    user.refresh_from_db()
    assert user.level == Level.L2 and user.verified_by == "registry"
    assert user.verified_at is not None
    assert user.real_name == "李小明" and user.id_number == number.upper()
    assert user.display_name == "李**"
    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, id_number FROM identity_user WHERE id = %s", [user.pk])
        stored = "".join(cursor.fetchone())
    assert number not in stored and "李小明" not in stored
    event = AuditEvent.objects.get(action="identity.realname_verified")
    assert number not in json.dumps(event.detail)
    assert event.detail["id_number"].count("*") == 8


def test_an_invalid_number_is_refused_by_its_checksum_first(number: str) -> None:
    user = make_citizen()
    broken = number[:17] + ("0" if number[17] != "0" else "1")
    error = refused(user, "李小明", broken)
    assert "校验位错误" in error.message_dict["id_number"][0]
    event = AuditEvent.objects.get(action="identity.realname_failed")
    assert event.detail["reason"] == "invalid_id_number"
    assert broken not in json.dumps(event.detail)


@pytest.mark.parametrize("bad", ["", "123", "11010119900307777", "ABCDEFGHIJKLMNOPQR",
                                 "１１０１０１１９９００３０７７７７７"])
def test_malformed_numbers_are_refused_with_a_message(bad: str) -> None:
    user = make_citizen()
    assert refused(user, "李小明", bad).message_dict["id_number"]


def test_a_name_that_does_not_match_is_refused(number: str) -> None:
    user = make_citizen()
    error = refused(user, "李大明", number)
    assert "未能通过核验" in error.messages[0]
    user.refresh_from_db()
    assert user.level == Level.L1 and not user.id_number
    assert AuditEvent.objects.get(action="identity.realname_failed").detail["reason"] == "mismatch"


def test_an_unknown_number_gets_the_same_answer_as_a_wrong_name(number: str) -> None:
    import random

    user = make_citizen()
    unknown = generate_synthetic_id_number(random.Random(99), "339902")
    assert refused(user, "李小明", unknown).messages == refused(user, "李大明", number).messages


def test_one_person_one_account(number: str) -> None:
    first = make_citizen("first")
    realname.verify_real_name(first, name="李小明", id_number=number, actor=first)
    second = make_citizen("second")
    error = refused(second, "李小明", number)
    assert "已绑定另一个账户" in error.message_dict["id_number"][0]
    assert (AuditEvent.objects.filter(action="identity.realname_failed").last()
            .detail["reason"] == "bound_to_another_account")


def test_an_account_is_verified_once(number: str) -> None:
    user = make_citizen()
    realname.verify_real_name(user, name="李小明", id_number=number, actor=user)
    assert "已经完成实名认证" in refused(user, "李小明", number).messages[0]


def test_failed_matches_are_limited_per_account(number: str) -> None:
    user = make_citizen()
    for _ in range(realname.ACCOUNT_FAILURES):
        refused(user, "王五", number)
    error = refused(user, "李小明", number)  # even the right answer now waits
    assert "次数过多" in error.messages[0]
    user.refresh_from_db()
    assert user.level == Level.L1


def test_failed_matches_are_limited_per_address(number: str) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.20")
    for n in range(realname.ADDRESS_FAILURES):
        refused(make_citizen(f"user{n}"), "王五", number, request)
    error = refused(make_citizen("another"), "李小明", number, request)
    assert "次数过多" in error.messages[0]


def test_checksum_errors_do_not_use_up_attempts(number: str) -> None:
    user = make_citizen()
    for _ in range(realname.ACCOUNT_FAILURES + 2):
        refused(user, "李小明", "110101199003070000")
    realname.verify_real_name(user, name="李小明", id_number=number, actor=user)


def test_names_are_compared_without_spaces_and_with_any_middle_dot() -> None:
    number = make_person("阿依古丽·买买提", seed=11)
    user = make_citizen()
    realname.verify_real_name(user, name="阿依古丽 • 买买提", id_number=number, actor=user)


def test_the_registry_is_a_plugin(settings, number: str) -> None:
    @realname.register_registry("test-down")
    class Down(realname.RealNameRegistry):
        def matches(self, *, name, id_number):
            raise realname.RegistryUnavailable

    settings.YIWANG_REALNAME_REGISTRY = "test-down"
    try:
        error = refused(make_citizen(), "李小明", number)
    finally:
        realname._registries.pop("test-down", None)
    assert "暂时不可用" in error.messages[0]
    settings.YIWANG_REALNAME_REGISTRY = "nowhere"
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        realname.get_registry()
