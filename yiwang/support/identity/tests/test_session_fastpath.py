"""The session middleware's fast path: one query gives the live session and the account that
``request.user`` is — and everything Django's own ``auth.get_user`` refuses stays refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from yiwang.support.identity import sessions
from yiwang.support.identity.middleware import SessionLivenessMiddleware
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def _run(session_key: str):  # type: ignore[no-untyped-def]
    """The request as the view sees it, after the session, auth and liveness middleware."""
    from django.conf import settings

    seen = {}

    def view(request):  # type: ignore[no-untyped-def]
        seen["user"] = request.user
        seen["authenticated"] = request.user.is_authenticated
        seen["session"] = sessions.current(request)
        return HttpResponse("ok")

    chain = SessionMiddleware(AuthenticationMiddleware(SessionLivenessMiddleware(view)))
    request = RequestFactory().get("/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = session_key
    with CaptureQueriesContext(connection) as queries:
        chain(request)
    seen["queries"] = [q["sql"] for q in queries.captured_queries]
    return seen


@pytest.fixture
def signed_in():  # type: ignore[no-untyped-def]
    from django.conf import settings

    user = get_user_model().objects.create_user("fast.path", password="x" * 12)
    client = Client()
    account_session = sign_in_client(client, user)
    return user, account_session, client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_account_comes_with_the_session_in_one_query(signed_in) -> None:
    user, account_session, key = signed_in
    seen = _run(key)
    assert seen["authenticated"] and seen["user"].pk == user.pk
    assert seen["session"].sid == account_session.sid
    assert seen["user"]._wrapped is seen["session"].user  # the same instance: loaded once
    user_queries = [q for q in seen["queries"] if 'FROM "identity_user"' in q]
    assert user_queries == []  # only the session join reads the account
    assert len(seen["queries"]) == 2  # the Django session and the live session with its account


def test_the_session_row_is_the_orms(signed_in) -> None:
    """Converted as the ORM converts: datetimes, JSON and the decrypted personal fields."""
    user, _, key = signed_in
    user.phone = "13800000000"
    user.save()
    seen = _run(key)
    fast = seen["session"]
    orm = type(fast).objects.select_related("user").get(pk=fast.pk)
    for field in type(fast)._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    for field in type(user)._meta.concrete_fields:
        assert getattr(fast.user, field.attname) == getattr(orm.user, field.attname), field.name
    assert fast.user.phone == "13800000000"


def test_a_changed_password_still_signs_the_browser_out(signed_in) -> None:
    user, _, key = signed_in
    user.set_password("y" * 12)
    user.save()
    assert not _run(key)["authenticated"]


def test_a_deactivated_account_is_not_signed_in(signed_in) -> None:
    user, _, key = signed_in
    user.is_active = False
    user.save()
    assert not _run(key)["authenticated"]


def test_an_ended_session_signs_the_browser_out(signed_in) -> None:
    _, account_session, key = signed_in
    sessions.end_session(account_session, reason="test")
    seen = _run(key)
    assert not seen["authenticated"] and seen["session"] is None


def test_personal_data_is_decrypted_when_read_without_a_query(signed_in) -> None:  # type: ignore[no-untyped-def]
    """The account's encrypted columns are left for when someone reads them (most requests
    do not): no query then, the same values; a save or a copy loses nothing."""
    import copy
    from unittest import mock

    from yiwang.core.crypto import service as crypto

    user, _, key = signed_in
    user.phone, user.real_name = "13800000000", "张三"
    user.save()
    with mock.patch.object(crypto, "decrypt_personal", wraps=crypto.decrypt_personal) as dec:
        seen = _run(key)
        assert dec.call_count == 0
        fast = seen["session"].user
        with CaptureQueriesContext(connection) as queries:
            assert (fast.phone, fast.real_name, fast.id_number) == ("13800000000", "张三", "")
        assert queries.captured_queries == []
        assert dec.call_count == 3  # each column once, when read
    seen = _run(key)
    fast = seen["session"].user
    fast.display_name = "张三丰"
    fast.save()
    again = get_user_model().objects.get(pk=user.pk)
    assert (again.display_name, again.phone, again.real_name) == ("张三丰", "13800000000", "张三")
    copied = copy.copy(_run(key)["session"].user)  # as pickling copies it
    assert "_decrypt_later" not in copied.__dict__ and copied.real_name == "张三"
