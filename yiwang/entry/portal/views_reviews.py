"""The portal's 好差评 page: how satisfied applicants are with each department and each
matter — the figures government portals publish under the national rules for evaluating
government services (国办发〔2019〕51号). Aggregates only: no name, no comment, no receipt
number."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from yiwang.entry.portal.caching import public_page
from yiwang.entry.portal.service import Crumb
from yiwang.industry.applications import service as applications

# The periods a visitor may choose: (code, label, days back; None for all).
PERIODS = (("all", gettext_lazy("全部"), None), ("year", gettext_lazy("近一年"), 365),
           ("quarter", gettext_lazy("近三个月"), 91))

# A matter with fewer evaluations shows no average or 好评率: one or two scores could be
# told apart, and their authors known to the department (the counts stay).
FEW = 3


@require_safe
@public_page
def reviews(request: HttpRequest) -> HttpResponse:
    """Satisfaction by department and by matter, for the chosen period."""
    days_of = {code: days for code, _label, days in PERIODS}
    period = request.GET.get("period", "all")
    if period not in days_of:
        period = "all"
    days = days_of[period]
    since = timezone.now() - timedelta(days=days) if days else None
    return render(request, "portal/reviews.html", {
        "nav": "reviews", "figures": applications.public_satisfaction(since=since),
        "period": period, "periods": [(code, label) for code, label, _days in PERIODS],
        "levels": sorted(applications.LEVELS.items(), reverse=True), "few": FEW,
        "crumbs": [Crumb(_("首页"), reverse("portal:home"))],
    })
