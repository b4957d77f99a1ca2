"""The public JSON API (/api/v1/ on the public listener)."""

from ninja import NinjaAPI

from yiwang.entry.api import auth as api_auth
from yiwang.entry.api import errors as api_errors
from yiwang.entry.api.routers import applications as applications_routes
from yiwang.entry.api.routers import credit as credit_routes
from yiwang.entry.api.routers import identifiers as identifier_routes
from yiwang.entry.api.routers import ledger as ledger_routes
from yiwang.entry.api.routers import licences as licences_routes
from yiwang.entry.api.routers import orgs as orgs_routes
from yiwang.entry.api.routers import payments as payments_routes
from yiwang.entry.api.routers import regions as regions_routes
from yiwang.entry.api.routers import seals as seals_routes
from yiwang.entry.api.routers import search as search_routes
from yiwang.entry.api.routers import services as services_routes
from yiwang.entry.api.routers import trust as trust_routes

api = NinjaAPI(
    title="yiwang public API",
    version="1",
    description="一网 public API: open data of the city (regions, departments) and, as modules "
                "arrive, services and applications.",
    urls_namespace="api-public",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api_auth.install(api)  # refused bearer tokens answer with RFC 6750 challenges
api_errors.install(api)  # malformed requests answered in the interface's language


@api.get("/ping", tags=["meta"], summary="Check the API answers")
def ping(request):  # type: ignore[no-untyped-def]
    return {"status": "ok"}


api.add_router("/regions", regions_routes.router)
api.add_router("/grids", regions_routes.grids_router)
api.add_router("/departments", orgs_routes.router)
api.add_router("/identifiers", identifier_routes.router)
api.add_router("/ledger", ledger_routes.public_router)
api.add_router("/trust", trust_routes.public_router)
api.add_router("/licences", licences_routes.public_router)
api.add_router("/seals", seals_routes.public_router)
api.add_router("/services", services_routes.public_router)
api.add_router("/applications", applications_routes.public_router)
api.add_router("/payments", payments_routes.public_router)
api.add_router("/credit", credit_routes.public_router)
api.add_router("/search", search_routes.public_router)
