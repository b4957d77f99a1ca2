from django.http import HttpRequest

from yiwang.platform.zones.service import Zone, base_url, zone_of


def zone(request: HttpRequest) -> dict[str, object]:
    current = zone_of(request)
    return {
        "zone": current.value,
        "portal_url": base_url(Zone.PUBLIC),
        "workbench_url": base_url(Zone.INTERNAL),
    }
