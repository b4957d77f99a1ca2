"""The internal JSON API (/api/v1/ on the internal listener), for officials' tools."""

from ninja import NinjaAPI
from ninja.security import django_auth

api = NinjaAPI(
    title="yiwang internal API",
    version="1",
    description="一网 internal API for the workbench and departmental systems.",
    urls_namespace="api-internal",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=django_auth,
)


@api.get("/ping", tags=["meta"], summary="Check the API answers", auth=None)
def ping(request):  # type: ignore[no-untyped-def]
    return {"status": "ok"}
