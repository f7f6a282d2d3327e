"""The ECS service waits for everything a task needs at start (what mocks alone cannot
show: ECS fails tasks that start early with ResourceInitializationError): the private
route out, the secrets' values, and the execution role's permissions."""

from __future__ import annotations

from typing import Any

import pytest

from tests import harness


def service_dependencies(monkeypatch: pytest.MonkeyPatch, **config: str) -> set[str]:
    """`type name` of each resource the ECS service's registration depends on."""
    seen: dict[str, list[str]] = {}
    register = harness.RecordingMonitor.RegisterResource

    def recording(self: harness.RecordingMonitor, request: Any) -> Any:
        seen[request.name] = list(request.dependencies)
        return register(self, request)

    monkeypatch.setattr(harness.RecordingMonitor, "RegisterResource", recording)
    result = harness.run_program(config={"cloud": "aws", **config})
    names = {r.urn: f"{r.type.rsplit(':', 1)[-1]} {r.name}" for r in result.mocks.resources}
    return {names[urn] for urn in seen["mlflow-server-service"] if urn in names}


@pytest.mark.parametrize("scenario", ["artifacts-only", "proxied"])
def test_tasks_start_after_routes_secret_values_and_execution_grants(
    monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    deps = service_dependencies(monkeypatch, scenario=scenario)
    # The private subnets' way out (NAT route, associations) and the S3 endpoint.
    assert {
        "Route mlflow-net-private-default",
        "RouteTableAssociation mlflow-net-private-assoc-0",
        "RouteTableAssociation mlflow-net-private-assoc-1",
        "VpcEndpoint mlflow-net-s3",
    } <= deps
    # The values (SecretVersion), not only the secrets, and the execution role's grants.
    assert {
        "SecretVersion mlflow-server-admin-password",
        "SecretVersion mlflow-server-flask-secret-key",
        "RolePolicyAttachment mlflow-server-execution",
        "RolePolicy mlflow-server-execution-secrets",
        "Listener mlflow-server-http",
    } <= deps
    if scenario == "artifacts-only":
        assert "SecretVersion mlflow-server-auth-database-url" in deps
