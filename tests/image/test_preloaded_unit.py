"""The preloaded server sets what the pinned MLflow's `mlflow server` would set, no less.

`mlflow server` is run in this process with the arguments the image would give it (MLflow's
launcher path), its process spawn and store initialisation replaced by recorders; the
variables it would hand its workers (its `extra_env` plus what it writes to `os.environ`)
are compared with the preloaded server's environment for the same plan.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import mlflow.cli
import mlflow.server
import mlflow.server.handlers
import mlflow.tracing.trace_rollup_service
import pytest
from mlflow_image import entrypoint as ep
from mlflow_image import server

SECRET_KEY = "k" * 40
SCENARIOS = {
    "3-local": {},
    "4-direct": {
        "DB_HOST": "db.internal",
        "DB_PASSWORD": "pw",
        "ARTIFACT_MODE": "direct",
        "ARTIFACT_URL": "s3://bucket/mlflow",
    },
    "5-proxied": {"DB_HOST": "db.internal", "DB_PASSWORD": "pw", "ARTIFACT_URL": "s3://b/p"},
    "6-artifacts-only": {"ARTIFACT_MODE": "artifacts-only", "ARTIFACT_URL": "gs://b"},
    "auth": {
        "AUTH_ENABLED": "true",
        "AUTH_PASSWORD": "a long admin password",
        "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET_KEY,
    },
    "public-static-prefix-replica": {
        "DB_HOST": "db.internal",
        "DB_PASSWORD": "pw",
        "PUBLIC_HOSTNAMES": "mlflow.example.com",
        "MLFLOW_STATIC_PREFIX": "/mlflow",
        "MLFLOW_READ_REPLICA_BACKEND_STORE_URI": "postgresql://u:p@replica/db",
        "MLFLOW_SERVER_X_FRAME_OPTIONS": "DENY",
    },
}
RANDOM = {"_MLFLOW_SERVER_BOOT_ID"}
"""Per-start random values: compared by presence only."""


class _FakeProcess:
    pid = 0
    returncode = 0

    def poll(self) -> int:
        return 0

    def wait(self) -> int:
        return 0


@pytest.fixture
def recorded_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Run `mlflow server` without spawning anything; yield what it would give its workers."""
    seen: dict[str, Any] = {}

    def exec_cmd(cmd: list[str], extra_env: dict[str, str], **_: Any) -> _FakeProcess:
        seen["cmd"] = cmd
        seen["extra_env"] = dict(extra_env)
        return _FakeProcess()

    monkeypatch.setattr(mlflow.server, "_exec_cmd", exec_cmd)
    monkeypatch.setattr(mlflow.server, "_bootstrap_basic_auth", lambda: None)
    monkeypatch.setattr(mlflow.server.handlers, "initialize_backend_stores", lambda *a, **k: None)
    monkeypatch.setattr(
        mlflow.tracing.trace_rollup_service, "validate_sql_trace_rollup_startup", lambda *a: None
    )
    handlers = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    yield seen
    signal.signal(signal.SIGTERM, handlers[0])
    signal.signal(signal.SIGINT, handlers[1])


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_preloaded_environment_covers_the_cli(
    name: str, recorded_cli: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """Every variable the CLI would set for its workers is set, to the same value."""
    env = {"DATA_DIR": str(tmp_path), **SCENARIOS[name]}
    plan = ep.resolve(env)
    assert plan.launcher == ep.PRELOADED
    server_env = ep.server_environment(plan, env)
    for key in list(os.environ):
        if key.startswith(("MLFLOW_", "_MLFLOW_")):
            monkeypatch.delenv(key)
    for key, value in server_env.items():
        monkeypatch.setenv(key, value)
    before = dict(os.environ)
    with pytest.raises(SystemExit) as done:
        mlflow.cli.cli.main(args=["server", *plan.args], standalone_mode=True)
    assert done.value.code in (0, None)
    cli_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
    cli_env.update(recorded_cli["extra_env"])

    ours = {
        **server_env,
        **server.private_environment(plan, server_env.get("MLFLOW_BACKEND_STORE_URI")),
    }
    missing = sorted(set(cli_env) - set(ours))
    assert not missing, f"the pinned MLflow's CLI sets {missing}; the preloaded server does not"
    differ = {
        k: (cli_env[k], ours[k]) for k in cli_env if k not in RANDOM and cli_env[k] != ours[k]
    }
    # Artifacts-only: the CLI names a SQLite file in the working directory it never opens.
    if plan.artifact_mode == "artifacts-only":
        for key in ("_MLFLOW_SERVER_FILE_STORE", "_MLFLOW_SERVER_REGISTRY_STORE"):
            assert differ.pop(key)[0] == "sqlite:///mlflow.db"
    assert not differ


def test_gunicorn_settings() -> None:
    """Workers, keep-alive, shutdown bound and preload come from the plan."""
    plan = ep.resolve(
        {"SERVER_WORKERS": "3", "SERVER_KEEP_ALIVE_SECONDS": "700", "SERVER_SHUTDOWN_SECONDS": "6"}
    )
    settings = server.gunicorn_settings(plan)
    assert settings["bind"] == [f"0.0.0.0:{ep.DEFAULT_PORT}"]
    assert (settings["workers"], settings["keepalive"], settings["graceful_timeout"]) == (3, 700, 6)
    assert settings["preload_app"] is True
    assert server.gunicorn_settings(ep.resolve({"HOST": "::"}))["bind"] == ["[::]:5000"]


def test_mlflow_launcher_gets_the_shutdown_bound_too() -> None:
    """MLflow's own launcher: uvicorn's --timeout-graceful-shutdown unless the user set it."""
    plan = ep.resolve({"MLFLOW_UVICORN_OPTS": "--proxy-headers", "SERVER_SHUTDOWN_SECONDS": "5"})
    opts = plan.args[plan.args.index("--uvicorn-opts") + 1]
    assert opts == "--proxy-headers --timeout-keep-alive 650 --timeout-graceful-shutdown 5"
