"""Legal persons (法人) and the people who act for them (授权委托).

An enterprise is not an account of its own. Its legal representative (法定代表人) opens an
:class:`~yiwang.support.identity.models.EnterpriseAccount` with their own real-name (L2)
account, after the population and legal-entity registries confirm that the person is the
enterprise's registered representative. The representative then authorises agents (经办人)
with a :class:`~yiwang.support.identity.models.Mandate`: a set of scopes and an expiry
date; revoking one takes effect at once.

A signed-in person acts either for themselves or for one enterprise at a time: the
identity-provider session carries the enterprise's credit code (``acting_for``).
:func:`current_acting` re-checks the mandate behind it on every call, so a mandate that was
revoked, expired or whose enterprise was suspended falls back to the personal identity on
the next request, in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    validate_credit_code,
    validate_id_number,
)
from yiwang.platform.registry import service as registry
from yiwang.support.identity import sessions
from yiwang.support.identity.models import (
    AccountSession,
    AccountType,
    EnterpriseAccount,
    EnterpriseStatus,
    Level,
    Mandate,
    MandateRole,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# What an agent may be authorised to do, in the order forms list them.
SCOPES: dict[str, StrPromise] = {
    "apply": _("办事申报"),
    "query": _("查询"),
    "pay": _("缴费"),
    "licence": _("证照使用"),
    "manage": _("管理经办人"),
}
MANAGE = "manage"
# An agent's mandate runs for three years at most; the representative's has no end.
MAX_MANDATE_DAYS = 3 * 365 + 1
REASON_MAX_LENGTH = 200
_ACTING_CACHE = "_yiwang_acting_identity"


@dataclass(frozen=True)
class ActingIdentity:
    """Whom a person acts for: an enterprise, in a role, within scopes."""

    enterprise: EnterpriseAccount
    mandate: Mandate
    role: str
    scopes: tuple[str, ...]

    @property
    def credit_code(self) -> str:
        return self.enterprise.credit_code

    @property
    def name(self) -> str:
        return self.enterprise.name

    @property
    def is_representative(self) -> bool:
        return self.role == MandateRole.REPRESENTATIVE

    @property
    def may_manage(self) -> bool:
        return MANAGE in self.scopes

    @property
    def scope_labels(self) -> list[StrPromise]:
        return [SCOPES[s] for s in SCOPES if s in self.scopes]


def _error(message: StrPromise, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params or None)


def acting_from(mandate: Mandate) -> ActingIdentity:
    """The identity a mandate gives (the representative holds every scope)."""
    scopes = (tuple(SCOPES) if mandate.role == MandateRole.REPRESENTATIVE
              else tuple(s for s in SCOPES if s in (mandate.scopes or [])))
    return ActingIdentity(enterprise=mandate.enterprise, mandate=mandate, role=mandate.role,
                          scopes=scopes)


def _live(now: datetime | None = None) -> Q:
    """Mandates that count now: not revoked, begun, not expired, enterprise active."""
    now = now or timezone.now()
    return (Q(revoked_at__isnull=True, valid_from__lte=now,
              enterprise__status=EnterpriseStatus.ACTIVE)
            & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)))


def live_mandates() -> QuerySet[Mandate]:
    """Every mandate that counts now, with its enterprise loaded."""
    return Mandate.objects.filter(_live()).select_related("enterprise")


def is_live(mandate: Mandate) -> bool:
    """Whether ``mandate`` counts now (re-read from the database)."""
    return live_mandates().filter(pk=mandate.pk).exists()


def scope_choices() -> list[tuple[str, StrPromise]]:
    """The scopes an agent can be given, with their labels (for forms)."""
    return list(SCOPES.items())


def get_enterprise(credit_code: str) -> EnterpriseAccount | None:
    """The enterprise account with this credit code, or None."""
    return EnterpriseAccount.objects.filter(credit_code=credit_code.strip().upper()).first()


def mandates_for(user: Any) -> list[Mandate]:
    """The live mandates a person holds (their enterprises), representative ones first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(live_mandates().filter(agent=user)
                .order_by("-role", "enterprise__name", "id"))  # "representative" > "agent"


def acting_identities(user: Any) -> list[ActingIdentity]:
    """Every enterprise the person may act for now, representative roles first."""
    found = [acting_from(m) for m in mandates_for(user)]
    return sorted(found, key=lambda a: (not a.is_representative, a.name))


def mandate_of(user: Any, enterprise: EnterpriseAccount | str) -> Mandate | None:
    """The live mandate by which ``user`` acts for ``enterprise``, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    qs = live_mandates().filter(agent=user)
    if isinstance(enterprise, EnterpriseAccount):
        qs = qs.filter(enterprise=enterprise)
    else:
        qs = qs.filter(enterprise__credit_code=enterprise.strip().upper())
    # A representative mandate wins over an agent one, should both exist.
    return qs.order_by("-role", "id").first()


def managing_mandate(user: Any, enterprise: EnterpriseAccount) -> Mandate | None:
    """The live mandate that lets ``user`` manage the enterprise's agents (the
    representative's, or an agent's holding the ``manage`` scope), or None."""
    mandate = mandate_of(user, enterprise)
    if mandate is None:
        return None
    if mandate.role == MandateRole.REPRESENTATIVE or MANAGE in (mandate.scopes or []):
        return mandate
    return None


def mandates_of_enterprise(enterprise: EnterpriseAccount, *, actor: Any,
                           include_ended: bool = True) -> list[Mandate]:
    """The enterprise's mandates, newest first, for someone who manages its agents.

    Raises ``PermissionDenied`` for anyone else: a representative of one enterprise never
    sees another's agents.
    """
    if managing_mandate(actor, enterprise) is None:
        raise PermissionDenied("not a manager of this enterprise")
    qs = enterprise.mandates.select_related("agent", "granted_by", "revoked_by")
    if not include_ended:
        qs = qs.filter(_live())
    return list(qs.order_by("-role", "revoked_at", "-created_at", "-id"))


# --- opening an enterprise account ---------------------------------------------------------

def _is_registry_representative(user: User, found: Any) -> bool:
    """Whether the user's verified ID number is the registered legal representative's.

    The registry looks its people up by a blind index of the number; the number itself is
    never logged or compared in the clear outside this process's memory.
    """
    number = user.id_number or ""
    if not number:
        return False
    try:
        person = registry.find_person(number)
    except InvalidIdentifier:
        return False
    return person is not None and person.pk == found.legal_representative_id


def register_enterprise_account(user: Any, credit_code: str, *, actor: Any) -> EnterpriseAccount:
    """Open the enterprise account of ``credit_code`` for its legal representative ``user``.

    The user must be real-name verified (L2); the code must be a valid GB 32100 code of an
    enterprise in the legal-entity registry that is still in business (存续) and whose
    registered legal representative is the user. Creates the account and the
    representative's mandate; when the registry names a new representative of an existing
    account, the account passes to them and the former representative's mandate ends.
    Refusals are audited (outside the transaction of the write, so that they are kept).
    """
    def refuse(error: ValidationError, reason: str) -> ValidationError:
        audit.record("identity.enterprise_refused", user, actor=actor,
                     detail={"credit_code": str(credit_code)[:18], "reason": reason})
        return error

    if int(user.level) < Level.L2 or not user.id_number:
        raise refuse(_error(_("只有完成实名认证的账户才能开通法人账户，请先完成实名认证。"),
                            "not_verified"), "not_verified")
    try:
        code = validate_credit_code(credit_code).value
    except InvalidIdentifier as exc:
        raise refuse(ValidationError(exc.message, code="invalid"), "invalid") from None
    found = registry.find_enterprise(code)
    if found is None:
        raise refuse(_error(_("法人库中没有统一社会信用代码为 %(code)s 的企业，请核对后再试。"),
                            "unknown", code=code), "unknown")
    if found.status != registry.EnterpriseStatus.ACTIVE:
        raise refuse(_error(
            _("%(name)s 的登记状态为“%(status)s”，不能开通法人账户。"), "inactive",
            name=found.name, status=found.get_status_display()), "inactive")
    if not _is_registry_representative(user, found):
        raise refuse(_error(
            _("您不是 %(name)s 登记的法定代表人。法人账户只能由法定代表人本人开通；"
              "经办人请由法定代表人授权。"), "not_representative", name=found.name),
            "not_representative")

    existing = EnterpriseAccount.objects.filter(credit_code=code).first()
    if existing is not None:
        problem = _existing_account_problem(existing, user)
        if problem is not None:
            raise refuse(*problem)
    with transaction.atomic():
        return _open_account(user, code, found.name, actor)


def _existing_account_problem(account: EnterpriseAccount, user: Any
                              ) -> tuple[ValidationError, str] | None:
    if account.status != EnterpriseStatus.ACTIVE:
        return _error(_("%(name)s 的法人账户已停用，请联系平台客服。"), "suspended",
                      name=account.name), "suspended"
    current = account.mandates.filter(_live(), role=MandateRole.REPRESENTATIVE,
                                      agent=user).exists()
    if account.representative_id == user.pk and current:
        return _error(_("您已开通 %(name)s 的法人账户。"), "already", name=account.name), "already"
    return None


def _open_account(user: Any, code: str, name: str, actor: Any) -> EnterpriseAccount:
    now = timezone.now()
    account = EnterpriseAccount.objects.select_for_update().filter(credit_code=code).first()
    changed = False
    if account is None:
        try:
            with transaction.atomic():
                account = EnterpriseAccount.objects.create(credit_code=code, name=name,
                                                           representative=user)
        except IntegrityError:
            # Opened by someone else a moment ago (a double submit): say so, no 500.
            raise _error(_("该企业的法人账户刚刚已开立，请刷新页面查看。"),
                         "enterprise_exists") from None
    else:
        problem = _existing_account_problem(account, user)  # again, under the lock
        if problem is not None:
            raise problem[0]
        changed = account.representative_id != user.pk
        # The registry now names this person: the former representative's mandate ends.
        account.mandates.filter(role=MandateRole.REPRESENTATIVE, revoked_at__isnull=True
                                ).exclude(agent=user).update(revoked_at=now, revoked_by=user)
        _drop_acting(account, exclude_user=user)
        account.representative = user
        account.name = name
        account.save(update_fields=["representative", "name"])
    Mandate.objects.create(enterprise=account, agent=user, role=MandateRole.REPRESENTATIVE,
                           scopes=list(SCOPES), granted_by=user, valid_from=now)
    audit.record("identity.enterprise_registered", account, actor=actor,
                 detail={"credit_code": code, "representative": user.pk,
                         "representative_changed": changed})
    return account


def _drop_acting(enterprise: EnterpriseAccount, *, exclude_user: Any = None,
                 only_user: Any = None) -> int:
    """Sessions acting for ``enterprise`` whose mandate just ended act personally again."""
    qs = AccountSession.objects.filter(acting_for=enterprise.credit_code, ended_at__isnull=True)
    if only_user is not None:
        qs = qs.filter(user=only_user)
    if exclude_user is not None:
        qs = qs.exclude(user=exclude_user)
    return qs.update(acting_for="")


# --- granting and revoking mandates --------------------------------------------------------

def _find_agent(agent_login: str, agent_name: str, agent_id_number: str) -> User:
    not_found = _error(_("没有找到这位经办人的账户，或者姓名与身份证号码不一致。请核对后再试，"
                         "并确认对方已注册并完成实名认证。"), "agent_not_found")
    if agent_login.strip():
        agent = User.objects.filter(username=agent_login.strip()).first()
        if agent is None:
            raise not_found
        return agent
    if not (agent_name.strip() and agent_id_number.strip()):
        raise _error(_("请填写经办人的用户名，或者姓名和公民身份号码。"), "agent_required")
    try:
        number = validate_id_number(agent_id_number).value
    except InvalidIdentifier as exc:
        raise ValidationError(exc.message, code="agent_id_number") from None
    agent = User.objects.filter(id_number_index=blind_index(number, "identity.id_number")).first()
    from yiwang.support.identity.realname import normalise_name

    if agent is None or normalise_name(agent.real_name or "") != normalise_name(agent_name):
        raise not_found
    return agent


def _check_expiry(expires_at: datetime | None, granter: Mandate, now: datetime) -> datetime:
    if expires_at is None:
        raise _error(_("请填写授权的到期日期。"), "expiry_required")
    if timezone.is_naive(expires_at):
        raise ValueError("expires_at must be timezone-aware")
    if expires_at <= now:
        raise _error(_("到期日期须晚于现在。"), "expiry_past")
    if expires_at > now + timedelta(days=MAX_MANDATE_DAYS):
        raise _error(_("授权期限最长三年，请选择更早的到期日期。"), "expiry_too_far")
    if granter.expires_at is not None and expires_at > granter.expires_at:
        raise _error(_("授权的到期日期不能晚于您本人授权的到期日期(%(date)s)。"),
                     "expiry_beyond_granter",
                     date=timezone.localtime(granter.expires_at).date().isoformat())
    return expires_at


def _check_scopes(scopes: Iterable[str], granter: Mandate) -> list[str]:
    wanted = set(scopes)
    unknown = wanted - set(SCOPES)
    if unknown:
        raise _error(_("授权范围无效。"), "scope_unknown")
    if not wanted:
        raise _error(_("请至少选择一项授权范围。"), "scope_required")
    if granter.role != MandateRole.REPRESENTATIVE:
        held = set(granter.scopes or [])
        if not wanted <= held:
            raise _error(_("您只能授予本人拥有的授权范围。"), "scope_beyond_granter")
    return [s for s in SCOPES if s in wanted]


def grant_mandate(enterprise: EnterpriseAccount, *, scopes: Iterable[str],
                  expires_at: datetime | None, actor: Any, agent_login: str = "",
                  agent_name: str = "", agent_id_number: str = "") -> Mandate:
    """Authorise an agent (经办人) to act for ``enterprise`` within ``scopes`` until ``expires_at``.

    Name the agent by ``agent_login`` (their user name) or by ``agent_name`` and
    ``agent_id_number``. Only the representative, or an agent holding the ``manage`` scope,
    may grant (``PermissionDenied`` otherwise); an agent grants only scopes they hold,
    until no later than their own mandate ends. The agent must be a real-name verified
    (L2) personal account without a live mandate for this enterprise already.
    """
    granter = managing_mandate(actor, enterprise)
    if granter is None:
        audit.record("identity.mandate_refused", enterprise, actor=actor,
                     detail={"action": "grant", "reason": "not_manager"})
        raise PermissionDenied("only the representative or a managing agent may grant")
    with transaction.atomic():
        return _grant(enterprise, granter, scopes=scopes, expires_at=expires_at, actor=actor,
                      agent_login=agent_login, agent_name=agent_name,
                      agent_id_number=agent_id_number)


def _grant(enterprise: EnterpriseAccount, granter: Mandate, *, scopes: Iterable[str],
           expires_at: datetime | None, actor: Any, agent_login: str, agent_name: str,
           agent_id_number: str) -> Mandate:
    now = timezone.now()
    # Grants for one enterprise queue on its row, so that a double submit cannot create two
    # live mandates for one agent (the check below runs under the lock).
    EnterpriseAccount.objects.select_for_update().filter(pk=enterprise.pk).first()
    chosen = _check_scopes(scopes, granter)
    expiry = _check_expiry(expires_at, granter, now)
    agent = _find_agent(agent_login, agent_name, agent_id_number)
    if not agent.is_active or agent.account_type != AccountType.CITIZEN:
        raise _error(_("经办人须使用本人的个人账户。"), "agent_not_citizen")
    if int(agent.level) < Level.L2:
        raise _error(_("经办人 %(name)s 尚未完成实名认证，请对方完成实名认证后再授权。"),
                     "agent_not_verified", name=agent.username)
    if mandate_of(agent, enterprise) is not None:
        raise _error(_("%(name)s 已有本企业的有效授权；如需变更授权范围或期限，请先撤销原授权。"),
                     "agent_already", name=agent.username)
    mandate = Mandate.objects.create(enterprise=enterprise, agent=agent, role=MandateRole.AGENT,
                                     scopes=chosen, granted_by=actor, valid_from=now,
                                     expires_at=expiry)
    audit.record("identity.mandate_granted", enterprise, actor=actor,
                 detail={"credit_code": enterprise.credit_code, "mandate": mandate.pk,
                         "agent": agent.pk, "scopes": chosen,
                         "expires_at": expiry.isoformat()})
    return mandate


def revoke_mandate(mandate: Mandate, *, actor: Any, reason: str) -> Mandate:
    """End an agent's mandate at once.

    The representative, an agent holding ``manage`` or the agent themselves (giving the
    mandate up) may revoke; a representative's own mandate ends only when the registry
    names a new representative. Any session acting for the enterprise under this mandate
    acts personally again from its next request.
    """
    enterprise = mandate.enterprise
    is_self = actor is not None and mandate.agent_id == getattr(actor, "pk", None)
    if not is_self and managing_mandate(actor, enterprise) is None:
        audit.record("identity.mandate_refused", enterprise, actor=actor,
                     detail={"action": "revoke", "mandate": mandate.pk, "reason": "not_manager"})
        raise PermissionDenied("only the representative or a managing agent may revoke")
    with transaction.atomic():
        return _revoke(mandate, actor=actor, reason=reason, is_self=is_self)


def _revoke(mandate: Mandate, *, actor: Any, reason: str, is_self: bool) -> Mandate:
    locked = Mandate.objects.select_for_update().select_related("enterprise").get(pk=mandate.pk)
    enterprise = locked.enterprise
    if locked.role == MandateRole.REPRESENTATIVE:
        raise _error(_("法定代表人的授权不能撤销；法定代表人变更后，由新的法定代表人重新开通。"),
                     "representative")
    if locked.revoked_at is not None:
        raise _error(_("这项授权已经撤销。"), "already_revoked")
    reason = " ".join((reason or "").split())
    if not reason:
        raise _error(_("请填写撤销原因。"), "reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise _error(_("撤销原因最多 %(max)s 个字。"), "reason_too_long", max=REASON_MAX_LENGTH)
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revoked_by"])
    dropped = _drop_acting(enterprise, only_user=locked.agent)
    audit.record("identity.mandate_revoked", enterprise, actor=actor,
                 detail={"credit_code": enterprise.credit_code, "mandate": locked.pk,
                         "agent": locked.agent_id, "reason": reason, "self": is_self,
                         "sessions_switched": dropped})
    return locked


# --- acting for an enterprise --------------------------------------------------------------

def switch_identity(request: HttpRequest, credit_code: str) -> ActingIdentity | None:
    """Act for the enterprise ``credit_code`` from now on, or for oneself with ``""``.

    Refused (``ValidationError``) unless the signed-in person holds a live mandate for it;
    ``PermissionDenied`` when nobody is signed in.
    """
    session = sessions.current(request)
    if session is None:
        raise PermissionDenied("not signed in")
    user = session.user
    code = (credit_code or "").strip().upper()
    previous = session.acting_for
    if not code:
        with transaction.atomic():
            sessions.set_acting_for(request, "")
            audit.record("identity.identity_switched", user, actor=user,
                         detail={"from": previous, "to": ""})
        setattr(request, _ACTING_CACHE, None)
        return None
    mandate = mandate_of(user, code)
    if mandate is None:
        audit.record("identity.identity_switched", user, actor=user,
                     detail={"from": previous, "to": code[:18], "refused": True})
        raise _error(_("您没有代表该企业办事的有效授权。"), "no_mandate")
    with transaction.atomic():
        sessions.set_acting_for(request, mandate.enterprise.credit_code)
        audit.record("identity.identity_switched", user, actor=user,
                     detail={"from": previous, "to": mandate.enterprise.credit_code,
                             "role": mandate.role})
    acting = acting_from(mandate)
    setattr(request, _ACTING_CACHE, acting)
    return acting


def acting_for_session(session: AccountSession | None) -> ActingIdentity | None:
    """Whom the identity-provider ``session`` acts for now, checking its mandate.

    For callers without a request (e.g. the ID-token and userinfo claims). Returns None and
    does not change the session when the mandate no longer counts.
    """
    if session is None or not session.acting_for or session.ended_at is not None:
        return None
    mandate = mandate_of(session.user, session.acting_for)
    return acting_from(mandate) if mandate is not None else None


def current_acting(request: HttpRequest) -> ActingIdentity | None:
    """Whom this request acts for: an enterprise (with role and scopes), or None (oneself).

    When the session's mandate was revoked or expired, or its enterprise suspended, the
    session falls back to the personal identity here (recorded as an identity switch).
    """
    if hasattr(request, _ACTING_CACHE):
        return cast("ActingIdentity | None", getattr(request, _ACTING_CACHE))
    session = sessions.current(request)
    acting = acting_for_session(session)
    if session is not None and session.acting_for and acting is None:
        ended = session.acting_for
        AccountSession.objects.filter(pk=session.pk, acting_for=ended).update(acting_for="")
        session.acting_for = ""
        audit.record("identity.identity_switched", session.user, actor=session.user,
                     detail={"from": ended, "to": "", "reason": "mandate_ended"})
    setattr(request, _ACTING_CACHE, acting)
    return acting


def has_scope(request: HttpRequest, scope: str) -> bool:
    """Whether this request acts for an enterprise with ``scope`` (never, acting personally)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown mandate scope {scope!r}")
    acting = current_acting(request)
    return acting is not None and scope in acting.scopes
