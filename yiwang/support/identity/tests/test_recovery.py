"""Recovery codes: shown once, stored as keyed hashes, single use, regenerated, downloaded."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity import recovery
from yiwang.support.identity.models import AccountSession, RecoveryCode, TotpDevice, User
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def events(action: str) -> Any:
    """Audit events of exactly ``action``."""
    return audit.search(audit.AuditFilter(action=action)).filter(action=action)

CODE = re.compile(r"^[23456789abcdefghjkmnpqrstuvwxyz]{4}-[23456789abcdefghjkmnpqrstuvwxyz]{4}-"
                  r"[23456789abcdefghjkmnpqrstuvwxyz]{4}$")


def make_user(username: str = "zhangsan") -> User:
    return User.objects.create_user(username=username, password="correct horse battery")


def with_authenticator(user: User) -> User:
    TotpDevice.objects.create(user=user, name="phone", secret="JBSWY3DPEHPK3PXP",
                              confirmed_at=timezone.now())
    return user


def test_ten_distinct_well_formed_codes() -> None:
    codes = recovery.generate(make_user())
    assert len(codes) == 10 == len(set(codes))
    assert all(CODE.match(code) for code in codes)


def test_only_keyed_hashes_are_stored() -> None:
    user = make_user()
    codes = recovery.generate(user)
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code in codes:
        assert code not in stored and recovery.normalise(code) not in stored
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored)


def test_the_same_code_hashes_differently_for_another_account() -> None:
    a, b = make_user("a"), make_user("b")
    assert recovery._hash(a, "abcd-efgh-jkmn") != recovery._hash(b, "abcd-efgh-jkmn")


def test_a_code_works_once() -> None:
    user = make_user()
    code = recovery.generate(user)[3]
    assert recovery.use(user, code) is True
    assert recovery.use(user, code) is False
    assert recovery.remaining(user) == 9
    used = events("identity.recovery_code_used").get()
    assert used.detail["remaining"] == 9


def test_codes_are_accepted_as_people_type_them() -> None:
    user = make_user()
    codes = recovery.generate(user)
    assert recovery.use(user, codes[0].upper()) is True
    assert recovery.use(user, codes[1].replace("-", " ")) is True
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in codes[2])
    assert recovery.use(user, full_width) is True


@pytest.mark.parametrize("bad", ["", "abc", "0000-0000-0000", "x" * 500, None])
def test_malformed_codes_are_refused(bad: str | None) -> None:
    user = make_user()
    recovery.generate(user)
    assert recovery.use(user, bad) is False  # type: ignore[arg-type]
    assert recovery.remaining(user) == 10


def test_another_persons_code_is_refused() -> None:
    owner, other = make_user(), make_user("lisi")
    code = recovery.generate(owner)[0]
    recovery.generate(other)
    assert recovery.use(other, code) is False
    assert recovery.remaining(owner) == 10


def test_regenerating_invalidates_the_old_codes() -> None:
    user = make_user()
    old = recovery.generate(user)
    new = recovery.generate(user)
    assert recovery.use(user, old[0]) is False
    assert recovery.use(user, new[0]) is True
    assert events("identity.recovery_codes_generated").count() == 2


def test_guessing_codes_locks_the_account(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = 3
    user = make_user()
    codes = recovery.generate(user)
    for _ in range(3):
        assert recovery.use(user, "zzzz-zzzz-zzzz") is False
    with pytest.raises(ValidationError):
        recovery.use(user, codes[0])
    assert recovery.remaining(user) == 10


# --- screens ---------------------------------------------------------------------------------


def test_the_page_counts_the_codes_left(public_client) -> None:  # type: ignore[no-untyped-def]
    user = with_authenticator(make_user())
    codes = recovery.generate(user)
    recovery.use(user, codes[0])
    sign_in_client(public_client, user)
    body = public_client.get(reverse("identity:recovery_codes")).content.decode()
    assert "9 / 10" in body
    assert codes[1] not in body  # never shown again


def test_regenerating_on_the_page_shows_new_codes_once(public_client) -> None:  # type: ignore[no-untyped-def]
    user = with_authenticator(make_user())
    old = recovery.generate(user)
    sign_in_client(public_client, user)
    response = public_client.post(reverse("identity:recovery_codes"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = re.findall(r"<code>([a-z0-9-]{14})</code>", response.content.decode())
    assert len(shown) == 10 and not set(shown) & set(old)
    assert recovery.use(user, shown[0]) is True


def test_regenerating_needs_a_recent_sign_in(public_client) -> None:  # type: ignore[no-untyped-def]
    user = with_authenticator(make_user())
    old = recovery.generate(user)
    session = sign_in_client(public_client, user)
    AccountSession.objects.filter(pk=session.pk).update(
        auth_time=timezone.now() - timedelta(hours=1))
    response = public_client.post(reverse("identity:recovery_codes"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:reauth"))
    assert recovery.use(user, old[0]) is True  # the old codes still work


def test_codes_need_an_authenticator_first(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user)
    response = public_client.post(reverse("identity:recovery_codes"))
    assert response.status_code == 302
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_download_is_a_text_file_of_the_posted_codes(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    codes = recovery.generate(user)
    sign_in_client(public_client, user)
    response = public_client.post(reverse("identity:recovery_codes_download"),
                                  {"code": [*codes, "<script>alert(1)</script>"]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert all(code in text for code in codes)
    assert "<script>" not in text
    assert "zhangsan" in text


def test_download_without_codes_is_a_404(public_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, make_user())
    assert public_client.post(reverse("identity:recovery_codes_download"),
                              {"code": ["nonsense"]}).status_code == 404


def test_codes_stashed_by_a_json_step_are_shown_once(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user)
    session = public_client.session
    session["yiwang_new_recovery_codes"] = {"user": user.pk, "codes": ["abcd-efgh-jkmn"],
                                            "first": True, "at": timezone.now().timestamp()}
    session.save()
    first = public_client.get(reverse("identity:recovery_codes_new"))
    assert first.status_code == 200 and "abcd-efgh-jkmn" in first.content.decode()
    again = public_client.get(reverse("identity:recovery_codes_new"))
    assert again.status_code == 302


def test_codes_stashed_for_someone_else_are_not_shown(public_client) -> None:  # type: ignore[no-untyped-def]
    user, other = make_user(), make_user("lisi")
    sign_in_client(public_client, user)
    session = public_client.session
    session["yiwang_new_recovery_codes"] = {"user": other.pk, "codes": ["abcd-efgh-jkmn"],
                                            "at": timezone.now().timestamp()}
    session.save()
    assert public_client.get(reverse("identity:recovery_codes_new")).status_code == 302
