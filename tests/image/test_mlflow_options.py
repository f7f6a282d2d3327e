"""MLflow's own server variables: held to the pinned MLflow's CLI, honoured or refused."""

from __future__ import annotations

import mlflow.cli
import mlflow.environment_variables as mev
import pytest
from mlflow_image import entrypoint as ep
from mlflow_image import mlflow_options as mo
from mlflow_image.contract import NAMES

DB = {"DB_HOST": "db.internal", "DB_PASSWORD": "x"}


def _cli_server_variables() -> set[str]:
    names = {p.envvar for p in mlflow.cli.server.params if isinstance(p.envvar, str)}
    names |= {p.envvar for p in mlflow.cli.cli.params if isinstance(p.envvar, str)}
    return names


def test_every_cli_server_variable_is_handled() -> None:
    """A new `envvar=` on `mlflow server` in the pinned MLflow fails here until it is handled."""
    cli = _cli_server_variables()
    assert cli <= set(mo.SERVER_VARIABLES), sorted(cli - set(mo.SERVER_VARIABLES))
    # MLFLOW_ENABLE_WORKSPACES is read by the command itself (MLFLOW_ENABLE_WORKSPACES.get()).
    assert set(mo.SERVER_VARIABLES) - cli == {"MLFLOW_ENABLE_WORKSPACES"}


def test_every_handled_variable_is_in_the_contract() -> None:
    """The contract table states what happens to each of MLflow's server variables."""
    assert set(mo.SERVER_VARIABLES) <= NAMES


def test_mlflow_booleans_match_the_pinned_mlflow() -> None:
    """Every boolean MLflow reads is checked at start (same values MLflow accepts)."""
    pinned = {v.name for v in vars(mev).values() if isinstance(v, mev._BooleanEnvironmentVariable)}
    assert set(mo.MLFLOW_BOOLEANS) == pinned


def test_mlflow_host_port_workers_are_honoured() -> None:
    """MLFLOW_HOST/PORT/WORKERS were ignored: now they are the server's address and size."""
    plan = ep.resolve({"MLFLOW_HOST": "127.0.0.2", "MLFLOW_PORT": "8081", "MLFLOW_WORKERS": "3"})
    assert (plan.host, plan.port, plan.workers) == ("127.0.0.2", 8081, 3)
    assert plan.args[:6] == ["--host", "127.0.0.2", "--port", "8081", "--workers", "3"]
    same = ep.resolve({"PORT": "8081", "MLFLOW_PORT": "8081"})
    assert same.port == 8081
    with pytest.raises(ep.ConfigError, match="MLFLOW_WORKERS='3' disagrees with SERVER_WORKERS"):
        ep.resolve({"SERVER_WORKERS": "2", "MLFLOW_WORKERS": "3"})
    with pytest.raises(ep.ConfigError, match=r"MLFLOW_HOST='::' disagrees with HOST='0\.0\.0\.0'"):
        ep.resolve({"HOST": "0.0.0.0", "MLFLOW_HOST": "::"})


def test_serve_artifacts_false_is_direct_to_the_bucket() -> None:
    """MLFLOW_SERVE_ARTIFACTS=false with ARTIFACT_URL used to leave artifacts on clients'
    disks (a local mlruns root): it is direct mode to the bucket."""
    plan = ep.resolve({**DB, "MLFLOW_SERVE_ARTIFACTS": "false", "ARTIFACT_URL": "s3://b/p"})
    assert plan.artifact_mode == "direct"
    assert plan.args[plan.args.index("--default-artifact-root") + 1] == "s3://b/p"
    assert "--no-serve-artifacts" in plan.args
    with pytest.raises(ep.ConfigError, match="ARTIFACT_URL is not set but ARTIFACT_MODE='direct'"):
        ep.resolve({**DB, "MLFLOW_SERVE_ARTIFACTS": "0"})
    assert ep.resolve({**DB, "MLFLOW_SERVE_ARTIFACTS": "yes"}).artifact_mode == "proxied"


@pytest.mark.parametrize(
    ("env", "mode", "url"),
    [
        ({"MLFLOW_DEFAULT_ARTIFACT_ROOT": "s3://b/r"}, "direct", "s3://b/r"),
        ({"MLFLOW_ARTIFACTS_DESTINATION": "s3://b/d"}, "proxied", "s3://b/d"),
        (
            {"MLFLOW_ARTIFACTS_ONLY": "true", "MLFLOW_ARTIFACTS_DESTINATION": "gs://b"},
            "artifacts-only",
            "gs://b",
        ),
        ({"MLFLOW_ARTIFACTS_ONLY": "false", "ARTIFACT_URL": "s3://b"}, "proxied", "s3://b"),
        ({"ARTIFACT_URL": "s3://b", "MLFLOW_ARTIFACTS_DESTINATION": "s3://b"}, "proxied", "s3://b"),
    ],
)
def test_artifact_variables_map_onto_the_contract(env: dict[str, str], mode: str, url: str) -> None:
    """MLflow's artifact variables mean what they mean to `mlflow server`."""
    if mode != "artifacts-only":
        env = {**DB, **env}
    plan = ep.resolve(env)
    assert (plan.artifact_mode, plan.artifact_url) == (mode, url)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ARTIFACT_URL": "s3://a", "MLFLOW_ARTIFACTS_DESTINATION": "s3://b"},
            "MLFLOW_ARTIFACTS_DESTINATION='s3://b' disagrees with ARTIFACT_URL='s3://a'",
        ),
        (
            {"MLFLOW_DEFAULT_ARTIFACT_ROOT": "s3://a", "ARTIFACT_MODE": "proxied"},
            "MLFLOW_DEFAULT_ARTIFACT_ROOT contradicts ARTIFACT_MODE='proxied'",
        ),
        (
            {"MLFLOW_ARTIFACTS_ONLY": "true", "MLFLOW_SERVE_ARTIFACTS": "false"},
            "MLFLOW_ARTIFACTS_ONLY='true' contradicts MLFLOW_SERVE_ARTIFACTS='false'",
        ),
        (
            {"MLFLOW_ARTIFACTS_DESTINATION": "s3://a", "ARTIFACT_MODE": "direct"},
            "MLFLOW_ARTIFACTS_DESTINATION contradicts ARTIFACT_MODE='direct'",
        ),
        (
            {"MLFLOW_SERVER_X_FRAME_OPTIONS": "ALLOW"},
            "MLFLOW_SERVER_X_FRAME_OPTIONS='ALLOW' is not supported",
        ),
        (
            {"CORS_ALLOWED_ORIGINS": "https://a", "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS": "*"},
            "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS='\\*' disagrees with CORS_ALLOWED_ORIGINS",
        ),
        ({"MLFLOW_WORKSPACE_STORE_URI": "x"}, "MLFLOW_WORKSPACE_STORE_URI is set"),
        ({"MLFLOW_SERVE_ARTIFACTS": "maybe"}, "MLFLOW_SERVE_ARTIFACTS='maybe' is not a boolean"),
        (
            {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "yes"},
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION='yes' is not a boolean MLflow accepts",
        ),
    ],
)
def test_contradictions_are_refused(env: dict[str, str], message: str) -> None:
    """Two settings that disagree: one line naming both, never one silently winning."""
    with pytest.raises(ep.ConfigError, match=message):
        ep.resolve({**DB, **env})


def test_read_replica_is_pinned_and_secret() -> None:
    """The read replica reaches the server with the image's driver, never on argv."""
    plan = ep.resolve({**DB, "MLFLOW_READ_REPLICA_BACKEND_STORE_URI": "postgres://u:pw@r/db"})
    assert plan.env["MLFLOW_READ_REPLICA_BACKEND_STORE_URI"].startswith("postgresql+psycopg2://")
    assert "MLFLOW_READ_REPLICA_BACKEND_STORE_URI" in plan.unset
    assert not any("pw" in a for a in plan.args)


@pytest.mark.parametrize(
    ("env", "args", "launcher"),
    [
        ({}, (), ep.PRELOADED),
        ({"MLFLOW_UVICORN_OPTS": "--proxy-headers"}, (), "mlflow server (MLFLOW_UVICORN_OPTS"),
        ({"MLFLOW_GUNICORN_OPTS": "--timeout 60"}, (), "mlflow server (MLFLOW_GUNICORN_OPTS"),
        ({"MLFLOW_EXPOSE_PROMETHEUS": "/tmp/p"}, (), "mlflow server (MLFLOW_EXPOSE_PROMETHEUS"),
        ({}, ("--static-prefix", "/m"), "mlflow server (arguments"),
        ({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true"}, (), "mlflow server (MLFLOW_SERVER_ENA"),
    ],
)
def test_launcher_choice(env: dict[str, str], args: tuple[str, ...], launcher: str) -> None:
    """Only MLflow's launcher can honour its launcher options: set, it runs; else preloaded."""
    assert ep.resolve(env, args).launcher.startswith(launcher)


def test_disabling_the_security_middleware_is_logged() -> None:
    """Honoured (MLflow's own switch), but never quietly."""
    plan = ep.resolve({"MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE": "true"})
    assert any("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE" in w for w in plan.warnings)
    assert not ep.resolve({"MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE": "false"}).warnings


def test_auth_password_from_a_file_loses_its_newline() -> None:
    """`--from-file` secrets end with a newline nobody types: stripped (line endings only)."""
    env = {"AUTH_ENABLED": "true", "MLFLOW_FLASK_SERVER_SECRET_KEY": "k" * 32}
    plan = ep.resolve({**env, "AUTH_PASSWORD": "a long password \r\n"})
    assert plan.auth_password == "a long password "
    assert plan.env["MLFLOW_AUTH_ADMIN_PASSWORD"] == "a long password "
