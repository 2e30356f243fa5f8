"""Health endpoints, request ids, API docs, the one error shape and the static files build."""

import json
import logging

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_live_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/health/ready", "/health"])
def test_ready_reports_every_dependency(client, path):
    response = client.get(path)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok", "broker": "ok"},
    }


@pytest.mark.django_db(transaction=True)
def test_ready_is_503_and_names_the_failed_part(client, monkeypatch):
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(storages["default"]), "save", broken_save)

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["storage"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_ready_names_an_unreachable_broker(client, settings):
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/health/ready")
    finally:
        app.conf.broker_url = previous

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


def test_request_id_is_made_and_returned(client):
    response = client.get("/health/live")

    assert len(response["X-Request-ID"]) == 32


def test_request_id_from_upstream_is_kept(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="edge-1234.abc")

    assert response["X-Request-ID"] == "edge-1234.abc"


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_request_log_line_is_json_with_the_request_id(client, capsys):
    from config.logging import build_logging

    logging.config.dictConfig(build_logging(level="INFO", fmt="json"))
    try:
        client.get("/health/live", HTTP_X_REQUEST_ID="trace-42")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        logging.config.dictConfig(build_logging(level="WARNING", fmt="json"))

    finished = [line for line in lines if line["event"] == "request_finished"]
    assert finished, lines
    assert finished[0]["request_id"] == "trace-42"
    assert finished[0]["code"] == 200


@pytest.mark.parametrize("name", ["api-schema", "api-docs", "api-redoc"])
def test_api_docs_are_served(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200


def test_schema_documents_the_auth_endpoints(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()

    for path in ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/users/me/addresses"]:
        assert path in schema["paths"]


def test_swagger_ui_is_served_from_our_own_static_files(client):
    html = client.get(reverse("api-docs")).content.decode()

    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_unknown_api_url_is_404_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_in_the_error_shape(client):
    response = client.get(reverse("api:auth-login"))

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_400_in_the_error_shape(client):
    response = client.post(
        reverse("api:auth-login"), data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_cors_allows_the_configured_origin_only(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    allowed = client.options(
        "/api/v1/auth/login",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    refused = client.options(
        "/api/v1/auth/login",
        HTTP_ORIGIN="https://evil.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in refused


def test_page_404_is_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_static_files_collect_with_the_production_storage(tmp_path, settings):
    """The deployment's build step: hashed names, every referenced file present (a vendored
    script that names a missing source map would stop the build)."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    call_command("collectstatic", interactive=False, verbosity=0)

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    assert (tmp_path / manifest["vendor/model-viewer.min.js"]).is_file()
    assert (tmp_path / manifest["css/store.css"]).is_file()
