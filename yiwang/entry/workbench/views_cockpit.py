"""The digital cockpit (数字驾驶舱) page: indicators, map with drill-down, charts and live
alarms for a city, district, street or community — drawn in the browser from
``/api/v1/cockpit/summary`` (ECharts and Leaflet from the npm registry, our own vector
data). An official opens only the levels their position covers (the API decides; the page
shows its answer)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from yiwang.entry.workbench.access import official_required
from yiwang.entry.workbench.views import render_page

DAYS = (7, 30, 90, 365)


@require_safe
@never_cache
@official_required
def cockpit(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region", "")[:12]
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in DAYS:
        days = 30
    return render_page(request, "workbench/cockpit.html", "cockpit", {
        "region": region if region.isdigit() else "", "days": days, "day_choices": DAYS})
