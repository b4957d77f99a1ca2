"""The sign-in screens, as a browser uses them."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity import pipeline, sms, throttle
from yiwang.support.identity.models import AccountSession, Level, User
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.identity.tests.test_signin_support import (
    PASSWORD,
    last_code,
    make_citizen,
    make_official,
    make_person,
    without_tokens,
)

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
LOGIN = "/account/login/"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.YIWANG_LOCKOUT_ADDRESS_FAILURES = 50


@pytest.fixture
def client() -> Client:
    return ListenerClient(settings.YIWANG_PUBLIC_PORT)


def text(response) -> str:
    return response.content.decode()


def browser_session(client: Client):
    """The Django session of this browser (the zone renames the cookie to yiwang_public)."""
    from importlib import import_module

    cookie = client.cookies.get("yiwang_public") or client.cookies.get(
        settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store(cookie.value if cookie else None)


def live_session(client: Client) -> AccountSession | None:
    sid = browser_session(client).get("yiwang_sid")
    return AccountSession.objects.filter(sid=sid, ended_at__isnull=True).first() if sid else None


def later(seconds: float):
    return mock.patch("django.utils.timezone.now",
                      return_value=timezone.now() + timedelta(seconds=seconds))


# --- the login page ---------------------------------------------------------------------


def test_the_login_page_is_accessible(client) -> None:
    html = text(client.get(LOGIN))
    assert '<label class="label" for="id_login">手机号码或用户名</label>' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'href="/account/login/sms/"' in html and 'href="/account/register/"' in html
    assert 'aria-current="page">密码登录' in html


def test_the_login_page_is_in_english_at_en(client) -> None:
    response = client.get("/en/account/login/")
    assert response.status_code == 200
    html = text(response)
    assert '<html lang="en">' in html
    assert 'action="/en/account/login/"' in html
    assert 'href="/account/login/" lang="zh-Hans"' in html  # the switch back to Chinese


def test_a_password_sign_in_without_second_factor_goes_to_next(client) -> None:
    user = make_citizen()
    response = client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD,
                                   "next": "/regions/"})
    assert response.status_code == 302 and response["Location"] == "/regions/"
    session = live_session(client)
    assert session.user == user and session.amr == ["pwd"] and session.acr == Level.L1
    assert AuditEvent.objects.filter(action="identity.sign_in").count() == 1


def test_unknown_account_and_wrong_password_look_exactly_the_same(client) -> None:
    make_citizen()
    wrong = client.post(LOGIN, {"login": "zhangsan", "password": "not the password"})
    unknown = client.post(LOGIN, {"login": "nobody", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 200
    assert without_tokens(text(wrong)).replace("zhangsan", "X") == \
        without_tokens(text(unknown)).replace("nobody", "X")
    assert "手机号码、用户名或密码不正确。" in text(wrong)


def test_the_dummy_hash_is_run_for_unknown_accounts(client) -> None:
    with mock.patch("yiwang.support.identity.views.signin.check_password",
                    return_value=False) as checked:
        client.post(LOGIN, {"login": "nobody", "password": "whatever it is"})
    assert checked.call_count == 1


def test_lockout_after_failures_is_the_same_for_unknown_names(client) -> None:
    make_citizen()
    for login in ("zhangsan", "nobody"):
        responses = [client.post(LOGIN, {"login": login, "password": "wrong password"})
                     for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 429]
        assert "尝试失败的次数过多" in text(responses[-1])
        # the right password does not help while locked
        locked = client.post(LOGIN, {"login": login, "password": PASSWORD})
        assert locked.status_code == 429 and live_session(client) is None
    # each name's own lock and its account's (a stand-in one for the unknown name)
    scopes = sorted(AuditEvent.objects.filter(action="identity.locked")
                    .values_list("detail__scope", flat=True))
    assert scopes == ["account", "account", "login", "login"]


def test_the_lock_ends_after_the_window(client) -> None:
    make_citizen()
    for _ in range(3):
        client.post(LOGIN, {"login": "zhangsan", "password": "wrong password"})
    with later(settings.YIWANG_LOCKOUT_WINDOW_SECONDS + 1):
        response = client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD})
    assert response.status_code == 302


def test_an_inactive_account_cannot_sign_in(client) -> None:
    make_citizen(is_active=False)
    response = client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD})
    assert "已停用" in text(response) and live_session(client) is None
    wrong = client.post(LOGIN, {"login": "zhangsan", "password": "not the password"})
    assert "不正确" in text(wrong)


@pytest.mark.parametrize("data", [{}, {"login": "", "password": ""},
                                  {"login": "x" * 5000, "password": "y"},
                                  {"login": "１３８１２３４５６７８", "password": "z" * 5000}])
def test_bad_input_shows_the_form_again(client, data) -> None:
    response = client.post(LOGIN, data)
    assert response.status_code == 200
    assert 'class="error-summary"' in text(response)


def test_errors_are_summarised_and_linked_to_their_fields(client) -> None:
    html = text(client.post(LOGIN, {"login": "", "password": ""}))
    assert '<a href="#id_login">请输入手机号码或用户名。</a>' in html
    assert 'id="id_login_error"' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_login_error"' in html
    assert "<title>错误：登录" in html


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "http:evil.example", "/\\evil.example",
    "javascript:alert(1)", "https://testserver.evil.example/", "/regions/\r\nSet-Cookie: x=1",
])
def test_next_never_leaves_the_site(client, target) -> None:
    make_citizen()
    response = client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/account/"


def test_next_may_be_the_authorize_endpoint(client) -> None:
    make_citizen()
    target = "/oidc/authorize/?client_id=abc&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    response = client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD, "next": target})
    assert response["Location"] == target


def test_a_signed_in_browser_is_sent_on(client) -> None:
    user = make_citizen()
    sign_in_client(client, user)
    assert client.get(LOGIN + "?next=/regions/")["Location"] == "/regions/"
    assert client.get(LOGIN + "?prompt=login").status_code == 200


# --- second factors ---------------------------------------------------------------------


def test_a_verified_phone_is_asked_for_after_the_password(client) -> None:
    user = make_citizen(phone=PHONE)
    response = client.post(LOGIN, {"login": PHONE, "password": PASSWORD, "next": "/regions/"})
    assert response["Location"] == "/account/login/second-factor/"
    assert live_session(client) is None
    page = text(client.get(response["Location"]))
    assert "第二步验证" in page and "138****5678" in page
    client.post(response["Location"], {"method": "sms", "action": "send"})
    done = client.post(response["Location"], {"method": "sms", "action": "verify",
                                              "code": last_code(PHONE)})
    assert done["Location"] == "/regions/"
    session = live_session(client)
    assert session.user == user and session.amr == ["pwd", "sms", "mfa"]


def test_an_official_is_sent_to_the_second_factor_page(client) -> None:
    make_official()
    response = client.post(LOGIN, {"login": "official1", "password": PASSWORD})
    assert response["Location"] == "/account/login/second-factor/"
    assert "公职人员账户登录时必须使用两种验证方式" in text(client.get(response["Location"]))


def test_an_official_without_any_second_factor_is_told_what_to_do(client) -> None:
    make_official(phone="")
    User.objects.filter(username="official1").update(phone="", phone_index="",
                                                      phone_verified_at=None)
    response = client.post(LOGIN, {"login": "official1", "password": PASSWORD})
    page = text(client.get(response["Location"]))
    assert "没有可用的第二种验证方式" in page


def test_a_wrong_second_factor_is_counted(client) -> None:
    make_citizen(phone=PHONE)
    client.post(LOGIN, {"login": PHONE, "password": PASSWORD})
    client.post("/account/login/second-factor/", {"method": "sms", "action": "send"})
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post("/account/login/second-factor/",
                           {"method": "sms", "action": "verify", "code": wrong})
    assert "还可以再试" in text(response)
    assert 'aria-describedby="id_code_error"' in text(response)  # an error found after cleaning
    assert AuditEvent.objects.filter(action="identity.sign_in_failed").count() == 1


def test_the_second_factor_page_times_out_after_five_minutes(client) -> None:
    make_citizen(phone=PHONE)
    client.post(LOGIN, {"login": PHONE, "password": PASSWORD})
    with mock.patch("time.time", return_value=__import__("time").time() + 301):
        response = client.get("/account/login/second-factor/")
    assert response["Location"] == "/account/login/?expired=1"
    assert "登录已超时" in text(client.get(response["Location"]))


def test_the_second_factor_page_without_a_pending_sign_in_goes_to_login(client) -> None:
    assert client.get("/account/login/second-factor/")["Location"] == LOGIN


def test_a_pending_sign_in_can_be_cancelled(client) -> None:
    make_citizen(phone=PHONE)
    client.post(LOGIN, {"login": PHONE, "password": PASSWORD})
    response = client.post("/account/login/second-factor/", {"action": "cancel"})
    assert response["Location"].startswith(LOGIN)
    assert pipeline.PENDING_KEY not in browser_session(client)
    assert AuditEvent.objects.filter(action="identity.sign_in_abandoned").exists()


def test_password_as_second_factor_after_an_sms_code(client) -> None:
    make_official()
    client.post("/account/login/sms/", {"phone": "13900000001"})
    response = client.post("/account/login/sms/code/", {"action": "verify",
                                                        "code": last_code("13900000001")})
    assert response["Location"] == "/account/login/second-factor/"
    page = text(client.get(response["Location"] + "?method=password"))
    assert 'type="password"' in page
    done = client.post(response["Location"], {"method": "password", "action": "verify",
                                              "code": PASSWORD})
    assert done.status_code == 302
    assert live_session(client).acr == Level.L3


# --- SMS sign-in --------------------------------------------------------------------------


def test_sms_sign_in(client) -> None:
    user = make_citizen(phone=PHONE)
    response = client.post("/account/login/sms/", {"phone": "+86 138 1234 5678",
                                                   "next": "/regions/"})
    assert response["Location"].startswith("/account/login/sms/code/")
    page = text(client.get(response["Location"]))
    assert "138****5678" in page and PHONE not in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    done = client.post(response["Location"], {"action": "verify", "code": last_code(PHONE),
                                              "next": "/regions/"})
    assert done["Location"] == "/regions/"
    assert live_session(client).user == user
    assert PHONE not in str(dict(browser_session(client).items()))  # the phone is kept encrypted


def test_sms_codes_for_unknown_numbers_are_not_sent_and_look_the_same(client) -> None:
    make_citizen(phone=PHONE)
    known = client.post("/account/login/sms/", {"phone": PHONE})
    other = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    unknown = other.post("/account/login/sms/", {"phone": "13700000000"})
    assert known.status_code == unknown.status_code == 302
    assert sms.latest_code("13700000000") is None
    page_known = text(client.get(known["Location"])).replace("138****5678", "X")
    page_unknown = text(other.get(unknown["Location"])).replace("137****0000", "X")
    assert without_tokens(page_known) == without_tokens(page_unknown)
    wrong_known = client.post(known["Location"], {"action": "verify", "code": "000000"})
    wrong_unknown = other.post(unknown["Location"], {"action": "verify", "code": "000000"})
    assert re.search("验证码不正确", text(wrong_unknown))
    assert wrong_known.status_code == wrong_unknown.status_code


def test_expired_and_reused_sms_codes_are_refused_clearly(client) -> None:
    make_citizen(phone=PHONE)
    client.post("/account/login/sms/", {"phone": PHONE})
    code = last_code(PHONE)
    with later(301):
        expired = client.post("/account/login/sms/code/", {"action": "verify", "code": code})
    assert "验证码已过期" in text(expired)
    with later(400):
        client.post("/account/login/sms/code/", {"action": "resend"})
        fresh = last_code(PHONE)
        assert code == fresh or "验证码不正确" in text(client.post(
            "/account/login/sms/code/", {"action": "verify", "code": code}))  # replaced
        first = client.post("/account/login/sms/code/", {"action": "verify", "code": fresh})
        assert first.status_code == 302
        # The same request again (a replay) signs nobody in a second time.
        replay = client.post("/account/login/sms/code/", {"action": "verify", "code": fresh})
    assert replay["Location"] == "/account/login/sms/"
    assert AccountSession.objects.count() == 1


def test_sending_too_often_is_refused_with_a_wait(client) -> None:
    client.post("/account/login/sms/", {"phone": PHONE})
    again = client.post("/account/login/sms/", {"phone": PHONE})
    assert again.status_code == 429 and "秒后再试" in text(again)


def test_the_code_page_without_a_phone_goes_back(client) -> None:
    assert client.get("/account/login/sms/code/")["Location"] == "/account/login/sms/"


# --- registration -------------------------------------------------------------------------


def test_registration_from_phone_to_signed_in(client) -> None:
    response = client.post("/account/register/", {"phone": PHONE})
    assert response["Location"] == "/account/register/verify/"
    page = text(client.get(response["Location"]))
    assert 'autocomplete="new-password"' in page and "138****5678" in page
    done = client.post(response["Location"], {
        "action": "register", "code": last_code(PHONE), "username": "",
        "password1": "lantern-river-42", "password2": "lantern-river-42"})
    assert done["Location"] == "/account/"
    user = User.objects.get()
    assert user.phone == PHONE and user.level == Level.L1
    assert live_session(client).user == user
    assert "注册成功" in text(client.get("/account/"))


def test_registration_refuses_mismatched_and_weak_passwords(client) -> None:
    client.post("/account/register/", {"phone": PHONE})
    code = last_code(PHONE)
    mismatch = client.post("/account/register/verify/", {
        "code": code, "password1": "lantern-river-42", "password2": "lantern-river-43"})
    assert "两次输入的密码不一致" in text(mismatch)
    weak = client.post("/account/register/verify/", {
        "code": code, "password1": "1234567890", "password2": "1234567890"})
    assert weak.status_code == 200 and 'href="#id_password1"' in text(weak)
    assert not User.objects.exists()


def test_registering_a_registered_phone_sends_a_notice_not_a_code(client) -> None:
    make_citizen(phone=PHONE)
    response = client.post("/account/register/", {"phone": PHONE})
    assert response["Location"] == "/account/register/verify/"
    assert sms.latest_code(PHONE) is None
    (notice,) = sms.read_outbox(PHONE)
    assert notice["template"] == "already_registered"


# --- step-up and real-name verification -----------------------------------------------------


def test_step_up_of_an_l1_account_starts_with_real_name_verification(client) -> None:
    user = make_citizen(phone=PHONE)
    sign_in_client(client, user, amr=["pwd", "sms"])
    page = text(client.get("/account/step-up/?level=2&next=/regions/"))
    assert "认证等级 L2" in page and "还没有实名认证" in page
    assert "/account/realname/?next=" in page
    number = make_person("李小明")
    realname_url = re.search(r'href="(/account/realname/\?next=[^"]+)"', page).group(1)
    done = client.post(realname_url.replace("&amp;", "&"),
                       {"name": "李小明", "id_number": number,
                        "next": "/account/step-up/?level=2&next=/regions/"})
    assert done.status_code == 302
    assert client.get(done["Location"])["Location"] == "/regions/"
    assert live_session(client).acr == Level.L3  # two factors and now L2


def test_step_up_to_l3_asks_for_another_factor(client) -> None:
    user = make_citizen(phone=PHONE, verified_at=timezone.now(), level=Level.L2)
    sign_in_client(client, user, amr=["pwd"])
    assert "再用一种方式确认" in text(client.get("/account/step-up/?level=3&next=/regions/"))
    response = client.post("/account/step-up/?level=3&next=/regions/")
    assert response["Location"] == "/account/login/second-factor/"
    client.post(response["Location"], {"method": "sms", "action": "send"})
    done = client.post(response["Location"], {"method": "sms", "action": "verify",
                                              "code": last_code(PHONE)})
    assert done["Location"] == "/regions/"
    assert live_session(client).acr == Level.L3


def test_step_up_for_an_anonymous_browser_is_a_sign_in(client) -> None:
    response = client.get("/account/step-up/?level=3&next=/regions/")
    assert response["Location"] == "/account/login/?level=3&next=%2Fregions%2F"
    assert "多因素强认证" in text(client.get(response["Location"]))


def test_a_sign_in_asked_for_l3_needs_two_factors(client) -> None:
    make_citizen(verified_at=timezone.now(), level=Level.L2, phone=PHONE)
    response = client.post(LOGIN, {"login": "zhangsan", "password": PASSWORD, "level": "3",
                                   "next": "/regions/"})
    assert response["Location"] == "/account/login/second-factor/"


def test_real_name_verification_refuses_invalid_numbers_and_mismatches(client) -> None:
    user = make_citizen()
    sign_in_client(client, user, amr=["pwd"])
    number = make_person("李小明")
    bad = client.post("/account/realname/", {"name": "李小明", "id_number": number[:17] + "Y"})
    assert bad.status_code == 200 and 'href="#id_id_number"' in text(bad)
    mismatch = client.post("/account/realname/", {"name": "王小明", "id_number": number})
    assert "未能通过核验" in text(mismatch)
    user.refresh_from_db()
    assert user.level == Level.L1
    audited = AuditEvent.objects.filter(action="identity.realname_failed")
    assert audited.count() == 2 and all(number not in str(e.detail) for e in audited)


def test_real_name_page_needs_a_signed_in_person(client) -> None:
    response = client.get("/account/realname/")
    assert response["Location"] == "/account/login/?next=%2Faccount%2Frealname%2F"


# --- account home, password, sign-out -------------------------------------------------------


def test_account_home_shows_only_the_signed_in_person(client) -> None:
    a = make_citizen("citizen_a", phone=PHONE)
    make_citizen("citizen_b", phone="13912345678")
    sign_in_client(client, a, amr=["pwd", "sms"])
    html = text(client.get("/account/"))
    assert "citizen_a" in html and "138****5678" in html
    assert "citizen_b" not in html and "139****5678" not in html and PHONE not in html
    assert 'href="/account/security/"' in html and 'href="/account/password/"' in html


def test_account_home_of_anonymous_goes_to_sign_in(client) -> None:
    assert client.get("/account/")["Location"] == "/account/login/?next=%2Faccount%2F"


def test_the_portal_header_knows_who_is_signed_in(client) -> None:
    html = text(client.get("/"))
    assert 'href="/account/login/?next=/"' in html or 'href="/account/login/?next=%2F"' in html
    assert 'href="/account/register/"' in html
    user = make_citizen(display_name="李**")
    sign_in_client(client, user, amr=["pwd"])
    html = text(client.get("/"))
    assert '<span class="site-header__user">李**</span>' in html
    assert 'href="/account/"' in html and 'href="/account/logout/"' in html


def test_the_old_not_yet_available_login_page_leads_to_the_real_one(client) -> None:
    response = client.get("/unavailable/account/")
    assert response.status_code == 301 and response["Location"] == LOGIN


def test_changing_the_password(client) -> None:
    user = make_citizen()
    sign_in_client(client, user, amr=["pwd"])
    AccountSession.objects.update(auth_time=timezone.now() - timedelta(hours=1))
    page = text(client.get("/account/password/"))
    assert 'name="old_password"' in page
    wrong = client.post("/account/password/", {"old_password": "nope", "new_password1":
                                               "lantern-river-42", "new_password2":
                                               "lantern-river-42"})
    assert "当前密码不正确" in text(wrong)
    done = client.post("/account/password/", {"old_password": PASSWORD, "new_password1":
                                              "lantern-river-42", "new_password2":
                                              "lantern-river-42"})
    assert done["Location"] == "/account/"
    assert client.get("/account/").status_code == 200  # still signed in here
    user.refresh_from_db()
    assert user.check_password("lantern-river-42")


def test_just_signed_in_may_set_a_password_without_the_old_one(client) -> None:
    user = make_citizen(phone=PHONE)
    client.post("/account/login/sms/", {"phone": PHONE})
    client.post("/account/login/sms/code/", {"action": "verify", "code": last_code(PHONE),
                                             "next": "/account/password/"})
    page = text(client.get("/account/password/"))
    assert 'name="old_password"' not in page
    client.post("/account/password/", {"new_password1": "lantern-river-42",
                                       "new_password2": "lantern-river-42"})
    user.refresh_from_db()
    assert user.check_password("lantern-river-42")


def test_sign_out_asks_first_and_needs_the_csrf_token() -> None:
    user = make_citizen()
    strict = ListenerClient(settings.YIWANG_PUBLIC_PORT, enforce_csrf_checks=True)
    session = sign_in_client(strict, user, amr=["pwd"])
    page = strict.get("/account/logout/")
    assert page.status_code == 200 and "退出登录" in text(page)
    assert strict.post("/account/logout/").status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(page)).group(1)
    done = strict.post("/account/logout/", {"csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == "/"
    session.refresh_from_db()
    assert session.ended_at is not None


def test_sign_out_of_an_anonymous_browser_just_goes_home(client) -> None:
    assert client.get("/account/logout/")["Location"] == "/"


def test_lockout_applies_to_the_sms_code_as_well(client) -> None:
    make_citizen(phone=PHONE)
    client.post("/account/login/sms/", {"phone": PHONE})
    for _ in range(3):
        response = client.post("/account/login/sms/code/", {"action": "verify",
                                                            "code": "000000"})
    assert response.status_code == 429
    assert throttle.retry_after(None, PHONE, method="sms") > 0
    # codes sent to the phone are counted apart from passwords typed with it
    assert throttle.retry_after(None, PHONE) == 0


ODD_VALUES = ["", "x" * 3000, "\x00", "１２３", "<script>", "../../etc", "%", "L9", "-1",
              "https://evil.example/"]
PAGES = ["/account/", "/account/login/", "/account/login/sms/", "/account/login/sms/code/",
         "/account/login/second-factor/", "/account/step-up/", "/account/logout/",
         "/account/register/", "/account/register/verify/", "/account/realname/",
         "/account/password/"]


@pytest.mark.parametrize("signed_in", [False, True])
def test_nothing_typed_anywhere_makes_a_server_error(client, signed_in) -> None:
    user = make_official()
    if signed_in:
        sign_in_client(client, user, amr=["pwd"])
    else:
        client.post(LOGIN, {"login": "official1", "password": PASSWORD})  # a pending sign-in
    for page in PAGES:
        for value in ODD_VALUES:
            params = {"next": value, "level": value, "method": value, "action": value,
                      "phone": value, "code": value, "login": value, "password": value,
                      "name": value, "id_number": value, "old_password": value,
                      "new_password1": value, "new_password2": value, "username": value,
                      "password1": value, "password2": value, "prompt": value}
            for response in (client.get(page, params), client.head(page),
                             client.post(page, params)):
                assert response.status_code < 500, (page, value, response.status_code)
            assert client.put(page).status_code == 405


def test_asking_again_too_soon_is_a_message_not_an_error(client) -> None:
    """'Resend' within the per-phone minute, on each page that offers it (found by a tester:
    the message was added to a form that was never filled in, a 500)."""
    make_official(phone=PHONE)
    client.post(LOGIN, {"login": "official1", "password": PASSWORD})
    send = {"method": "sms", "action": "send"}
    assert client.post("/account/login/second-factor/", send).status_code == 200
    again = client.post("/account/login/second-factor/", send)
    assert again.status_code == 429 and "error-message" in text(again)

    other = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    other.post("/account/login/sms/", {"phone": "13812340000"})
    resend = other.post("/account/login/sms/code/", {"action": "resend"})
    assert resend.status_code == 429 and "error-message" in text(resend)

    third = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    third.post("/account/register/", {"phone": "13812340001"})
    resend = third.post("/account/register/verify/", {"action": "resend"})
    assert resend.status_code == 429 and "error-message" in text(resend)
