"""Risk classes for market regulation (信用风险分类 A/B/C/D) from configurable rules.

Each subject's facts are counted from its credit records and list entries (those still in
force: not revoked, repaired or removed); the rules — JSON Logic over those facts, edited on
the workbench and versioned — are tried in order and the first that matches gives the class.
Regulators inspect D-class subjects most often and A-class least (双随机、一公开 sampling
ratios in ``YIWANG_CREDIT_INSPECTION_RATIOS``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.audit import service as audit
from yiwang.enablement.forms import service as forms
from yiwang.support.credit.models import (
    ListEntry,
    ListType,
    Publication,
    Record,
    RecordKind,
    RiskClass,
    RiskRules,
    Severity,
    Subject,
)
from yiwang.support.credit.subjects import digest, error, on_ledger

FACTS: dict[str, Any] = {
    "black_listed": gettext_lazy("在黑名单中的条数"),
    "red_listed": gettext_lazy("在红名单中的条数"),
    "penalties_1y": gettext_lazy("近 1 年行政处罚次数"),
    "penalties_3y": gettext_lazy("近 3 年行政处罚次数"),
    "serious_3y": gettext_lazy("近 3 年严重失信行政处罚次数"),
    "fines_wan_1y": gettext_lazy("近 1 年罚款金额(万元)"),
    "licences": gettext_lazy("有效行政许可数"),
}

DEFAULT_RULES: list[dict[str, Any]] = [
    {"class": "D", "label": "列入黑名单或近 3 年有严重失信行政处罚",
     "when": {"or": [{">": [{"var": "black_listed"}, 0]}, {">": [{"var": "serious_3y"}, 0]}]}},
    {"class": "C", "label": "近 1 年行政处罚 2 次以上或罚款 10 万元以上",
     "when": {"or": [{">=": [{"var": "penalties_1y"}, 2]},
                     {">=": [{"var": "fines_wan_1y"}, 10]}]}},
    {"class": "B", "label": "近 3 年有行政处罚",
     "when": {">=": [{"var": "penalties_3y"}, 1]}},
]
IN_FORCE = ~Q(publication__in=[Publication.REVOKED, Publication.REPAIRED, Publication.REMOVED])
MAX_RULES = 20


def current_rules() -> RiskRules:
    """The rules in force: the latest saved version, else the defaults (version 0, not
    stored: reading never writes)."""
    found = RiskRules.objects.order_by("-version").first()
    if found is None:
        found = RiskRules(version=0, rules=DEFAULT_RULES, default_class=RiskClass.A,
                          note="默认规则")
    return found


def check_rules(rules: Any, default_class: str) -> list[dict[str, Any]]:
    """Validate rules as edited; a message per problem, rule by rule."""
    if not isinstance(rules, list) or not rules:
        raise error(_("规则应为非空的列表。"), "invalid", "rules")
    if len(rules) > MAX_RULES:
        raise error(_("规则不能超过 %(n)d 条。") % {"n": MAX_RULES}, "invalid", "rules")
    if default_class not in RiskClass.values:
        raise error(_("默认分类只能是 A、B、C、D 之一。"), "invalid", "default_class")
    clean, problems = [], []
    for n, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or set(rule) - {"class", "when", "label"}:
            problems.append(_("第 %(n)d 条:只能有 class、when、label 三项。") % {"n": n})
            continue
        if rule.get("class") not in RiskClass.values:
            problems.append(_("第 %(n)d 条:分类只能是 A、B、C、D 之一。") % {"n": n})
        try:
            forms.check_logic(rule.get("when"), known_keys=frozenset(FACTS),
                              where=_("第 %(n)d 条") % {"n": n})
        except ValidationError as exc:
            problems.extend(exc.messages)
        label = str(rule.get("label") or "")[:100]
        clean.append({"class": rule.get("class"), "label": label, "when": rule.get("when")})
    if problems:
        raise ValidationError({"rules": problems})
    return clean


def save_rules(rules: Any, *, default_class: str, note: str, actor: Any) -> RiskRules:
    """A new version of the rules (the old ones stay, for the record)."""
    clean = check_rules(rules, default_class)
    try:
        return _save_rules(clean, default_class, note, actor)
    except IntegrityError:  # another editor saved a version at the same moment
        raise error(_("规则刚被其他人修改过,请刷新后再改。"), "conflict") from None


def _save_rules(clean: list[dict[str, Any]], default_class: str, note: str,
                actor: Any) -> RiskRules:
    with transaction.atomic(), audit.together():
        latest = current_rules()
        saved = RiskRules.objects.create(version=latest.version + 1, rules=clean,
                                         default_class=default_class, note=note.strip()[:200],
                                         created_by=actor)
        on_ledger("credit.risk_rules", {"version": saved.version,
                                        "rules_sha256": digest({"r": clean,
                                                                "d": default_class})})
        audit.record("credit.risk_rules_saved", saved, actor=actor,
                     detail={"version": saved.version})
    return saved


def facts_of(subject_ids: list[int], today: date | None = None) -> dict[int, dict[str, Any]]:
    """The facts of each subject, counted in four grouped queries."""
    today = today or timezone.localdate()
    one, three = today - timedelta(days=365), today - timedelta(days=3 * 365)
    facts: dict[int, dict[str, Any]] = {pk: dict.fromkeys(FACTS, 0) for pk in subject_ids}
    penalties = (Record.objects.filter(IN_FORCE, subject_id__in=subject_ids,
                                       kind=RecordKind.PENALTY, decided_on__gt=three)
                 .values("subject_id").annotate(
                     p3=Count("id"), p1=Count("id", filter=Q(decided_on__gt=one)),
                     s3=Count("id", filter=Q(severity=Severity.SERIOUS)),
                     f1=Sum("fine_wan", filter=Q(decided_on__gt=one))))
    for counted in penalties:
        found = facts[counted["subject_id"]]
        found.update(penalties_3y=counted["p3"], penalties_1y=counted["p1"],
                     serious_3y=counted["s3"], fines_wan_1y=float(counted["f1"] or Decimal(0)))
    licences = (Record.objects.filter(IN_FORCE, subject_id__in=subject_ids,
                                      kind=RecordKind.LICENSING)
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
                .values("subject_id").annotate(n=Count("id")))
    for valid in licences:
        facts[valid["subject_id"]]["licences"] = valid["n"]
    entries = (ListEntry.objects.filter(subject_id__in=subject_ids,  # under objection: still
                                        publication__in=[Publication.PUBLISHED,
                                                         Publication.SUSPENDED],
                                        publish_from__lte=today, expires_on__gt=today)
               .values("subject_id", "list_type").annotate(n=Count("id")))
    for listed in entries:
        key = "black_listed" if listed["list_type"] == ListType.BLACK else "red_listed"
        facts[listed["subject_id"]][key] = listed["n"]
    return facts


def classify_facts(facts: dict[str, Any], rules: RiskRules) -> tuple[str, str]:
    """(class, the label of the rule that gave it)."""
    for rule in rules.rules:
        if forms.evaluate(rule["when"], facts):
            return rule["class"], rule.get("label", "")
    return rules.default_class, ""


def classify(subject: Subject) -> tuple[str, str, dict[str, Any]]:
    """The class of one subject now, with the rule's label and the facts."""
    facts = facts_of([subject.pk])[subject.pk]
    found, label = classify_facts(facts, current_rules())
    return found, label, facts


def classify_all(*, batch: int = 1000, progress: Any = None) -> dict[str, int]:
    """Classify every subject under the current rules; returns the count per class."""
    rules = current_rules()
    now = timezone.now()
    counts = {c: 0 for c in RiskClass.values}
    ids = list(Subject.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        facts = facts_of(chunk)
        rows = []
        for pk in chunk:
            found, _label = classify_facts(facts[pk], rules)
            counts[found] += 1
            rows.append(Subject(pk=pk, risk_class=found, risk_facts=facts[pk],
                                risk_rules_version=rules.version, risk_at=now))
        Subject.objects.bulk_update(rows, ["risk_class", "risk_facts", "risk_rules_version",
                                           "risk_at"])
        if progress is not None:
            progress(min(start + batch, len(ids)), len(ids))
    return counts
