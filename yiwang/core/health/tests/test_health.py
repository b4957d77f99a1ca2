import json
import logging

import pytest
from django.test import override_settings

from yiwang.core.health.logs import ContextFilter, JsonFormatter

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fixture", ["public_client", "internal_client"])
def test_healthz_on_both_listeners(request, fixture):
    client = request.getfixturevalue(fixture)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response["X-Request-ID"]) >= 8


def test_readyz_reports_each_dependency(public_client):
    response = public_client.get("/readyz")
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "worker"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    # No worker runs in this test: not ready, and it says why.
    assert body["checks"]["worker"]["ok"] is False
    assert response.status_code == 503
    assert body["status"] == "unavailable"


def test_metrics_only_on_the_internal_listener(public_client, internal_client):
    internal_client.get("/healthz")
    response = internal_client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "yiwang_http_requests_total" in text
    assert 'zone="internal"' in text
    assert public_client.get("/metrics").status_code == 404


def test_a_well_formed_request_id_from_a_trusted_proxy_is_kept(public_client):
    with override_settings(YIWANG_TRUSTED_PROXIES=["127.0.0.1"]):
        response = public_client.get("/healthz", HTTP_X_REQUEST_ID="abcdef123456")
        assert response["X-Request-ID"] == "abcdef123456"
        forged = public_client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
        assert forged["X-Request-ID"] != "bad id\nwith newline"


def test_clients_cannot_choose_their_request_id(public_client):
    response = public_client.get("/healthz", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] != "abcdef123456"


def test_public_readiness_hides_error_details(public_client, internal_client):
    public = public_client.get("/readyz").json()["checks"]["worker"]
    internal = internal_client.get("/readyz").json()["checks"]["worker"]
    assert public["ok"] is False and "detail" not in public
    assert internal["ok"] is False and internal["detail"]


def test_json_log_lines_carry_request_id_and_mask_personal_data():
    record = logging.LogRecord("yiwang.test", logging.INFO, __file__, 1,
                               "citizen %s called from %s", ("110101199003074258", "13812345678"),
                               None)
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "yiwang.test"
    assert line["request_id"] == "-"
    assert "110101199003074258" not in line["message"]
    assert "13812345678" not in line["message"]


def test_security_headers(public_client):
    response = public_client.get("/healthz")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_django_request_errors_keep_the_request_id(public_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = public_client.get("/no-such-page/")
    assert response.status_code == 404
    record = next(r for r in caplog.records if r.name == "django.request")
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == response["X-Request-ID"]
    assert line["zone"] == "public"
    assert "+" in line["time"] or line["time"].endswith("Z")


def test_extra_fields_and_request_reprs_are_masked_too():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found", (),
                               None)
    record.request = "<WSGIRequest: GET '/x?id=110101199003074258&tel=13812345678'>"
    ContextFilter().filter(record)
    text = JsonFormatter().format(record)
    assert "110101199003074258" not in text
    assert "13812345678" not in text
    assert json.loads(text)["request"].startswith("<WSGIRequest: GET '/x?id=")


def test_client_errors_are_logged_without_a_traceback():
    try:
        raise PermissionError("no")
    except PermissionError:
        import sys

        info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", (),
                               info)
    record.status_code = 403
    ContextFilter().filter(record)
    assert "Traceback" not in JsonFormatter().format(record)
    record.status_code = 500
    record.exc_info = info
    ContextFilter().filter(record)
    assert "Traceback" in JsonFormatter().format(record)


def test_text_log_lines_are_masked_too():
    from yiwang.core.health.logs import TextFormatter

    record = logging.LogRecord("yiwang.test", logging.INFO, __file__, 1, "citizen %s",
                               ("110101199003074258",), None)
    ContextFilter().filter(record)
    line = TextFormatter("%(request_id)s %(message)s").format(record)
    assert "110101199003074258" not in line
    assert line.startswith("- citizen ")


def test_the_client_address_behind_trusted_proxies():
    from yiwang.core.health.middleware import client_address, trusted_networks

    proxies = trusted_networks(["10.0.0.0/8", "192.0.2.7"])
    # From a trusted proxy: the right-most hop that is not a proxy.
    assert client_address("10.1.1.1", "203.0.113.9", proxies) == "203.0.113.9"
    assert client_address("10.1.1.1", "198.51.100.1, 203.0.113.9, 192.0.2.7",
                          proxies) == "203.0.113.9"
    # Whatever the client wrote left of that is not believed.
    assert client_address("10.1.1.1", "1.2.3.4, 203.0.113.9", proxies) == "203.0.113.9"
    # A malformed hop ends the walk at the last good one.
    assert client_address("10.1.1.1", "203.0.113.9, junk", proxies) == "10.1.1.1"
    # From anyone else the header is ignored.
    assert client_address("203.0.113.50", "1.2.3.4", proxies) == "203.0.113.50"
    assert client_address("10.1.1.1", "", proxies) == "10.1.1.1"
    # IPv4-mapped peers of a dual-stack socket are recognised.
    assert client_address("::ffff:10.1.1.1", "203.0.113.9", proxies) == "203.0.113.9"


def test_a_malformed_trusted_proxy_entry_names_the_variable():
    from django.core.exceptions import ImproperlyConfigured

    from yiwang.core.health.middleware import trusted_networks

    with pytest.raises(ImproperlyConfigured, match="YIWANG_TRUSTED_PROXIES"):
        trusted_networks(["10.0.0.0/8", "not-an-address"])


def test_rate_limits_and_audit_see_the_forwarded_client(public_client):
    """Behind the proxy two clients have two budgets; a client talking to us directly
    cannot pick an address with X-Forwarded-For."""
    from django.core.cache import cache

    from yiwang.core import context, ratelimit

    seen = []

    def view_address(request):
        seen.append((request.META["REMOTE_ADDR"], context.current().address,
                     ratelimit.client_address(request)))

    cache.clear()
    with override_settings(YIWANG_TRUSTED_PROXIES=["127.0.0.0/8"]):
        from yiwang.core.health import middleware

        def app(request):
            view_address(request)
            from django.http import HttpResponse

            return HttpResponse("ok")

        edge = middleware.RequestContextMiddleware(app)
        from django.test import RequestFactory

        rf = RequestFactory()
        edge(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"))
        edge(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="2001:db8::1"))
    with override_settings(YIWANG_TRUSTED_PROXIES=[]):
        edge = middleware.RequestContextMiddleware(app)
        edge(rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.9"))
    assert seen[0] == ("203.0.113.9", "203.0.113.9", "203.0.113.9")
    assert seen[1][:2] == ("2001:db8::1", "2001:db8::1")
    assert seen[1][2] == "2001:db8::/64"
    assert seen[2] == ("198.51.100.4", "198.51.100.4", "198.51.100.4")
