"""The sign-in pipeline: after a first factor, decide whether more is needed, then sign in.

Every way of proving who one is — password, SMS code, passkey, QR code — ends by calling
:func:`begin`. It signs the person in at once (:func:`sessions.sign_in`) when one factor is
enough, or keeps a *pending sign-in* in the browser's session (for :data:`PENDING_TTL`) and
sends them to the second-factor page. Whatever proves the second factor calls
:func:`complete`, which finishes the sign-in. A signed-in session asked for a higher level
(step-up, ``identity:step_up``) goes through the same second-factor page: :func:`begin_step_up`
keeps a pending step-up and :func:`complete` raises the session's level.

More than one factor is needed when:

- the account is an official's (:func:`assurance.requires_multi_factor`), or
- the level asked for is L3 (``required_level=3``), or
- the person enrolled another factor (``factors.available_second_factors``: a passkey, a TOTP
  authenticator or a verified phone) than the one just used: whoever set one up must use
  it. Recovery codes are a fallback, never a reason.

The second factor must be of another kind than the first; a password may serve as the
second factor after an SMS code or a QR code. After signing in the browser goes to ``next``
only when it is on this host (:func:`safe_next`): never an open redirect.

Signing in — here, not when a first factor is right — clears the account's failure count
(:func:`throttle.succeed`): a first factor proved again must not reset the count of guesses
at the second one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from yiwang.core.audit import service as audit
from yiwang.support.identity import assurance, sessions, throttle
from yiwang.support.identity.models import User

PENDING_KEY = "yiwang_pending_auth"
PENDING_TTL = timedelta(minutes=5)
MAX_NEXT_LENGTH = 2000

SIGN_IN = "sign_in"
STEP_UP = "step_up"

# A second-factor name -> the amr values that show it was already used. Approving a QR code
# on one's signed-in phone proves possession of the phone, as an SMS code would.
FACTOR_AMR = {"passkey": {"hwk", "swk"}, "totp": {"otp"}, "sms": {"sms", "qr"},
              "recovery": {"kba"}, "password": {"pwd"}}
FALLBACKS = {"recovery"}  # offered when needed, never a reason to ask for a second factor


@dataclass
class Pending:
    """A sign-in (or step-up) waiting for its second factor."""

    kind: str
    user_id: int
    amr: list[str]
    method: str
    next_url: str
    required_level: int | None = None
    level_cap: int | None = None
    started: float = field(default_factory=time.time)

    @property
    def expired(self) -> bool:
        return time.time() - self.started > PENDING_TTL.total_seconds()

    @property
    def seconds_left(self) -> int:
        return max(0, int(PENDING_TTL.total_seconds() - (time.time() - self.started)))


# --- where to go afterwards ------------------------------------------------------------------


def default_next() -> str:
    return reverse("identity:home")


def safe_next(request: HttpRequest, url: str | None, default: str | None = None) -> str:
    """``url`` when it stays on this host (a path, or this host's absolute URL), else
    ``default`` (the account home). Never an open redirect."""
    fallback = default if default is not None else default_next()
    text = str(url or "").strip()
    if not text or len(text) > MAX_NEXT_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return fallback
    if not url_has_allowed_host_and_scheme(text, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        return fallback
    return text


def clean_level(value: Any) -> int | None:
    """A level asked for in a query string (``1``..``3`` or ``L1``..``L3``), or None."""
    text = str(value or "").strip().upper().removeprefix("L")
    if text in {"1", "2", "3"}:
        return int(text)
    return None


def url_with(name: str, **params: Any) -> str:
    """``reverse(name)`` with the non-empty ``params`` as its query string."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return reverse(name) + ("?" + urlencode(query) if query else "")


def finish_redirect(request: HttpRequest, next_url: str | None,
                    required_level: int | None = None) -> HttpResponse:
    """Go on to ``next`` (made safe) — through the step-up page when the session is still
    below the level asked for."""
    target = safe_next(request, next_url)
    if required_level and sessions.level_of(request) < required_level:
        return HttpResponseRedirect(url_with("identity:step_up", level=required_level,
                                             next=target))
    return HttpResponseRedirect(target)


# --- which factors ---------------------------------------------------------------------------


def _factors() -> Any:
    try:
        from yiwang.support.identity import factors
    except ImportError:  # the factors module not installed: no second factors beyond the phone
        return None
    return factors


def available_second_factors(user: Any) -> list[str]:
    """What ``user`` could prove as a second factor (``factors.available_second_factors``)."""
    factors = _factors()
    if factors is not None:
        return list(factors.available_second_factors(user))
    verified = getattr(user, "phone", "") and getattr(user, "phone_verified_at", None)
    return ["sms"] if verified else []


def _used(name: str, amr: Iterable[str]) -> bool:
    return bool(FACTOR_AMR.get(name, set()) & set(amr))


# The kind of factor each option proves (a passkey with user verification proves two).
FACTOR_KINDS = {"password": {"knowledge"}, "sms": {"possession"}, "totp": {"possession"},
                "recovery": {"possession"}, "passkey": {"possession", "inherence"}}


def second_factor_options(user: Any, amr: Iterable[str], *,
                          multi_factor: bool | None = None) -> list[str]:
    """The factors to offer after ``amr``: the enrolled ones not yet used, and the password
    when it was not the first factor. Best first.

    When the sign-in must end multi-factor (officials always; ``multi_factor=True`` when L3
    was asked for), only factors of a kind not yet proved are offered: an SMS code after a
    TOTP code would be two possession factors, not two factors.
    """
    amr = list(amr)
    options = [f for f in available_second_factors(user) if not _used(f, amr)]
    if not _used("password", amr) and user.has_usable_password():
        at = options.index("recovery") if "recovery" in options else len(options)
        options.insert(at, "password")
    if multi_factor is None:
        multi_factor = assurance.requires_multi_factor(user)
    if multi_factor:
        proved = assurance.factor_kinds(amr)
        options = [f for f in options if FACTOR_KINDS.get(f, set()) - proved]
    return options


def needs_second_factor(user: Any, amr: Iterable[str], required_level: int | None = None) -> bool:
    """Whether a sign-in that proved ``amr`` must prove another factor (see module doc)."""
    amr = list(amr)
    if assurance.is_multi_factor(amr):
        return False
    if assurance.requires_multi_factor(user) or (required_level or 0) >= 3:
        return True
    if "qr" in amr:
        # 扫码登录：approved on a phone that is itself signed in with the person's factors;
        # it is not asked again (its level is capped instead, see qrlogin).
        return False
    return any(f not in FALLBACKS and not _used(f, amr) for f in available_second_factors(user))


# --- the pending state ---------------------------------------------------------------------


def _store(request: HttpRequest, pending: Pending) -> None:
    request.session[PENDING_KEY] = asdict(pending)


def clear(request: HttpRequest) -> None:
    """Forget a pending sign-in or step-up."""
    request.session.pop(PENDING_KEY, None)


def load(request: HttpRequest) -> tuple[Pending | None, bool]:
    """``(pending, expired)``: the live pending state, or None and whether one just expired."""
    raw = request.session.get(PENDING_KEY) if hasattr(request, "session") else None
    if not raw:
        return None, False
    try:
        pending = Pending(**raw)
    except TypeError:
        clear(request)
        return None, False
    if pending.expired:
        clear(request)
        return None, True
    return pending, False


def pending(request: HttpRequest) -> Pending | None:
    """The live pending sign-in or step-up of this browser, or None."""
    return load(request)[0]


def pending_user(request: HttpRequest) -> User | None:
    """The person who proved a first factor and must now prove a second one, or None.

    For a pending step-up it is the signed-in person. Factor views (TOTP, passkey, recovery)
    verify against this account, then call :func:`complete`.
    """
    state = pending(request)
    if state is None:
        return None
    user = User.objects.filter(pk=state.user_id, is_active=True).first()
    if user is None:
        clear(request)
        return None
    if state.kind == STEP_UP:
        current = sessions.current(request)
        if current is None or current.user_id != user.pk:
            clear(request)
            return None
    return user


# --- the steps -----------------------------------------------------------------------------


def begin(request: HttpRequest, user: Any, *, amr: Iterable[str], method: str,
          next_url: str | None, required_level: int | None = None,
          level_cap: int | None = None) -> HttpResponse:
    """A first factor succeeded for ``user``: sign in, or ask for a second factor.

    Returns the response to send: a redirect to ``next`` (made safe; via the step-up page
    when the session is below ``required_level``) or to ``identity:second_factor``.
    ``level_cap`` holds the session's level down whatever factors follow (QR login).
    """
    if not getattr(user, "is_active", False):
        raise PermissionDenied("inactive account")
    amr_list = list(amr)
    level = clean_level(required_level)
    next_target = safe_next(request, next_url)
    if not needs_second_factor(user, amr_list, level):
        clear(request)
        sessions.sign_in(request, user, amr=amr_list, method=method, level_cap=level_cap)
        throttle.succeed(request, user)  # signed in: now the account's count may go
        return finish_redirect(request, next_target, level)
    # A new key for the half-signed-in browser: a session id seen before this point (e.g.
    # planted by someone else) is worth nothing afterwards.
    request.session.cycle_key()
    _store(request, Pending(kind=SIGN_IN, user_id=user.pk, amr=amr_list, method=method,
                            next_url=next_target, required_level=level,
                            level_cap=level_cap))
    return HttpResponseRedirect(reverse("identity:second_factor"))


def begin_step_up(request: HttpRequest, *, required_level: int, next_url: str | None
                  ) -> HttpResponse:
    """Ask the signed-in person for another factor to reach ``required_level``."""
    session = sessions.current(request)
    if session is None:
        return HttpResponseRedirect(url_with("identity:login", level=required_level,
                                             next=safe_next(request, next_url)))
    _store(request, Pending(kind=STEP_UP, user_id=session.user_id, amr=list(session.amr),
                            method="step_up", next_url=safe_next(request, next_url),
                            required_level=clean_level(required_level)))
    return HttpResponseRedirect(reverse("identity:second_factor"))


def complete(request: HttpRequest, *, amr: Iterable[str], method: str) -> HttpResponse:
    """The second factor (``amr``, proved by ``method``) succeeded: finish the pending
    sign-in — or raise the level of the signed-in session for a pending step-up."""
    state, _expired = load(request)
    user = pending_user(request) if state is not None else None
    if state is None or user is None:
        return HttpResponseRedirect(url_with("identity:login", expired=1))
    combined = [*state.amr, *amr]
    must = assurance.requires_multi_factor(user) or (state.required_level or 0) >= 3
    if state.kind == SIGN_IN and must and not assurance.is_multi_factor(combined):
        # Two factors of one kind (e.g. SMS and TOTP): not yet multi-factor; ask again.
        _store(request, Pending(kind=SIGN_IN, user_id=user.pk, amr=combined,
                                method=f"{state.method}+{method}", next_url=state.next_url,
                                required_level=state.required_level,
                                level_cap=state.level_cap, started=state.started))
        return HttpResponseRedirect(reverse("identity:second_factor"))
    clear(request)
    if state.kind == STEP_UP:
        sessions.step_up(request, amr=list(amr), method=method)
    else:
        sessions.sign_in(request, user, amr=[*state.amr, *amr],
                         method=f"{state.method}+{method}", level_cap=state.level_cap)
        throttle.succeed(request, user)  # signed in: now the account's count may go
    return finish_redirect(request, state.next_url, state.required_level)


def abandon(request: HttpRequest) -> None:
    """The person gave up the pending sign-in (audited, so a pattern can be seen)."""
    state = pending(request)
    clear(request)
    if state is not None and state.kind == SIGN_IN:
        user = User.objects.filter(pk=state.user_id).first()
        if user is not None:
            audit.record("identity.sign_in_abandoned", user, actor=user,
                         detail={"method": state.method})
