"""The API contract is committed; a change to the API must update it on purpose."""

import json

import pytest

from yiwang.entry.api.contract import APIS, path_of, render


@pytest.mark.parametrize("zone", list(APIS))
def test_openapi_document_matches_the_committed_contract(zone):
    committed = path_of(zone).read_text(encoding="utf-8")
    assert committed == render(zone), (
        f"the {zone} API changed: review the change and run `yiwang export-openapi`"
    )


def test_served_document_is_the_contract(public_client, internal_client):
    served = public_client.get("/api/v1/openapi.json").json()
    assert served == json.loads(path_of("public").read_text(encoding="utf-8"))
    assert "/api/v1/identifiers/validate" in served["paths"]
    assert "/api/v1/regions" in served["paths"]
    internal = internal_client.get("/api/v1/openapi.json").json()
    assert internal["info"]["title"] == "yiwang internal API"


def test_api_docs_load_nothing_from_the_internet(public_client):
    html = public_client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "http://" not in html and "https://" not in html
