"""The internal JSON API (/api/v1/ on the internal listener), for officials' tools."""

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import SessionAuth

from yiwang.entry.api import errors as api_errors
from yiwang.entry.api.routers import applications as applications_routes
from yiwang.entry.api.routers import city as city_routes
from yiwang.entry.api.routers import cockpit as cockpit_routes
from yiwang.entry.api.routers import ledger as ledger_routes
from yiwang.entry.api.routers import licences as licences_routes
from yiwang.entry.api.routers import perception as perception_routes
from yiwang.entry.api.routers import seals as seals_routes
from yiwang.entry.api.routers import services as services_routes
from yiwang.entry.api.routers import trust as trust_routes
from yiwang.platform.zones.service import Zone, session_cookie_name
from yiwang.support.identity import service as identity


class OfficialSession(SessionAuth):
    """A signed-in, active official's session at L3 (the workbench's rule), CSRF-checked."""

    param_name = session_cookie_name(Zone.INTERNAL)  # what the browser sends (see zones)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if (user is not None and user.is_active and user.is_staff
                and identity.level_of(request) >= identity.OFFICIAL_LEVEL):
            return user
        return None


official_session = OfficialSession()

api = NinjaAPI(
    title="yiwang internal API",
    version="1",
    description="一网 internal API for the workbench and departmental systems.",
    urls_namespace="api-internal",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=official_session,
)
api_errors.install(api)  # malformed requests answered in the interface's language


@api.get("/ping", tags=["meta"], summary="Check the API answers", auth=None)
def ping(request):  # type: ignore[no-untyped-def]
    return {"status": "ok"}


@api.get("/me", tags=["meta"], summary="The signed-in official")
def me(request):  # type: ignore[no-untyped-def]
    user = request.auth
    return {"username": user.get_username(), "name": getattr(user, "display_name", "")}
api.add_router("/ledger", ledger_routes.internal_router)
api.add_router("/trust", trust_routes.internal_router)
api.add_router("/licences", licences_routes.internal_router)
api.add_router("/seals", seals_routes.internal_router)
api.add_router("/services", services_routes.internal_router)
api.add_router("/applications", applications_routes.internal_router)
api.add_router("/perception", perception_routes.internal_router)
api.add_router("/cockpit", cockpit_routes.internal_router)
api.add_router("/city", city_routes.internal_router)
