"""The public JSON API (/api/v1/ on the public listener)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="yiwang public API",
    version="1",
    description="一网 public API: open data of the city (regions, departments) and, as modules "
                "arrive, services and applications.",
    urls_namespace="api-public",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.get("/ping", tags=["meta"], summary="Check the API answers")
def ping(request):  # type: ignore[no-untyped-def]
    return {"status": "ok"}
