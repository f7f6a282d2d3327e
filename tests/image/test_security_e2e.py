"""MLflow's security middleware as the image configures it from PUBLIC_HOSTNAMES: Host
allow-list (exact match, port included) and CORS for state-changing requests. /health
is exempt from the Host check, so these tests use the API. Also: extra `mlflow server`
arguments pass through."""

from __future__ import annotations

import http.client
import json

import pytest

from tests import services
from tests.image.conftest import START_TIMES

pytestmark = pytest.mark.e2e

SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: dict | None = None
) -> tuple[int, dict[str, str]]:
    """One HTTP request to 127.0.0.1:port with explicit headers (Host included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.putrequest(method, path, skip_host=True)
        for key, value in {**headers, "Content-Type": "application/json"}.items():
            conn.putheader(key, value)
        if payload is not None:
            conn.putheader("Content-Length", str(len(payload)))
        conn.endheaders(payload)
        response = conn.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def public_server(tmp_path_factory):
    """A zero-config server for PUBLIC_HOSTNAMES=mlflow.example.com, extra args given."""
    data = tmp_path_factory.mktemp("public")
    server = services.EntrypointServer(
        {"DATA_DIR": str(data), "PUBLIC_HOSTNAMES": "mlflow.example.com"},
        ("--x-frame-options", "DENY"),
        log_dir=str(data),
    )
    with server:
        START_TIMES.append(server.healthy_after)
        yield server


@pytest.mark.parametrize(
    "host",
    [
        "mlflow.example.com",
        "mlflow.example.com:443",
        "mlflow.example.com:80",
        "localhost",
        "127.0.0.1:{port}",
    ],
)
def test_public_and_local_hosts_allowed(public_server, host: str) -> None:
    """The public name (bare, :443, :80) and local in-container names pass the Host check."""
    status, headers = request(
        public_server.port, "GET", SEARCH, {"Host": host.format(port=public_server.port)}
    )
    assert status == 200
    assert headers.get("x-frame-options") == "DENY"  # extra server argument passed through


@pytest.mark.parametrize(
    "host",
    ["evil.example.com", "mlflow.example.com:8443", "mlflow.example.com.evil.com", "10.0.0.5"],
)
def test_other_hosts_rejected(public_server, host: str) -> None:
    """Any other Host header (a private IP included: the list replaces defaults) gets 403."""
    status, _ = request(public_server.port, "GET", SEARCH, {"Host": host})
    assert status == 403


def test_health_exempt_from_host_check(public_server) -> None:
    """/health answers any Host (which is why it proves nothing about the allow-list)."""
    status, _ = request(public_server.port, "GET", "/health", {"Host": "evil.example.com"})
    assert status == 200


def test_cors_same_origin_ui_post_allowed_foreign_blocked(public_server) -> None:
    """The UI's own POST (Origin = the public name) passes; a foreign origin gets 403."""
    port = public_server.port
    ok, _ = request(
        port,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        {"Host": "mlflow.example.com", "Origin": "https://mlflow.example.com"},
        {"name": "cors-ok"},
    )
    assert ok == 200
    blocked, _ = request(
        port,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        {"Host": "mlflow.example.com", "Origin": "https://evil.example.com"},
        {"name": "cors-evil"},
    )
    assert blocked == 403
