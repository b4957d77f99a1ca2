"""Officials open the materials they review, the applicant their own (review M5): audited
reads, served with nosniff and a sandbox CSP; nobody else; the API gives a URL, never the
upload's token."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from yiwang.core.audit import service as audit
from yiwang.industry.applications.tests.conftest import submitted
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"


def _reads(purpose: str) -> int:
    return sum(1 for e in audit.search(audit.AuditFilter(action="uploads.read"))
               if (e.detail or {}).get("purpose") == purpose)


def _safe(response: Any) -> None:
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response.content.startswith(b"\x89PNG")


def test_the_official_opens_a_material_of_their_department(
        internal_client: Any, version: Any, citizen: Any, officer: Any,
        stranger_official: Any) -> None:
    app = submitted(citizen)
    material = app.materials.get()
    url = reverse("workbench:applications_material", args=[app.pk, material.pk],
                  urlconf="yiwang.urls.internal")
    sign_in_client(internal_client, officer)
    detail = internal_client.get(reverse("workbench:applications_detail", args=[app.pk],
                                         urlconf="yiwang.urls.internal")).content.decode()
    assert f'href="{url}"' in detail
    before = _reads("application.review")
    _safe(internal_client.get(url))
    assert _reads("application.review") == before + 1
    internal_client.logout()
    sign_in_client(internal_client, stranger_official)
    assert internal_client.get(url).status_code == 404


def test_the_applicant_opens_their_own_material_and_nobody_else(
        public_client: Any, version: Any, citizen: Any, other_citizen: Any) -> None:
    app = submitted(citizen)
    material = app.materials.get()
    url = reverse("applications_portal:material", args=[app.pk, material.pk],
                  urlconf="yiwang.urls.public")
    sign_in_client(public_client, citizen)
    page = public_client.get(reverse("applications_portal:detail", args=[app.pk],
                                     urlconf="yiwang.urls.public")).content.decode()
    assert f'href="{url}"' in page
    _safe(public_client.get(url))
    public_client.logout()
    sign_in_client(public_client, other_citizen)
    assert public_client.get(url).status_code == 404


def test_the_api_gives_a_url_not_the_token(public_client: Any, internal_client: Any,
                                           version: Any, citizen: Any, officer: Any,
                                           other_citizen: Any) -> None:
    app = submitted(citizen)
    material = app.materials.get()
    sign_in_client(public_client, citizen)
    body = public_client.get(f"{BASE}/{app.pk}").json()
    shown = body["materials"][0]
    assert "upload_token" not in shown
    assert shown["url"] == f"{BASE}/{app.pk}/materials/{material.pk}"
    _safe(public_client.get(shown["url"]))
    sign_in_client(internal_client, officer)
    seen = internal_client.get(f"{BASE}/{app.pk}").json()
    assert material.upload_token not in str(seen)
    assert seen["data"]["id_card"] == [shown["url"]]
    _safe(internal_client.get(shown["url"]))
    public_client.logout()
    sign_in_client(public_client, other_citizen)
    assert public_client.get(shown["url"]).status_code == 404
