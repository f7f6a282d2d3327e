"""MLflow's own `mlflow server` variables: each honoured on the contract or refused at start.

`mlflow server` reads one `MLFLOW_*` variable per click option (`envvar=`), plus a few it
reads itself. The image configures the server through its contract (`contract.py`), so each
of MLflow's variables is either mapped onto the contract variable that means the same thing
(and refused when both are set and disagree), honoured as MLflow does, or refused with one
line naming the contract variable to use. Nothing is silently overridden.
`tests/image/test_mlflow_options.py` fails when the pinned MLflow's CLI grows a variable that
`SERVER_VARIABLES` does not list, and checks `MLFLOW_BOOLEANS` against MLflow's own table.

Pure: no mlflow import (a bad input fails in well under a second).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mlflow_image.contract import ARTIFACT_MODES, MLFLOW_SERVER_VARIABLES


class ConfigError(Exception):
    """A bad or contradictory environment: the message is the one line the user sees."""


SERVER_VARIABLES: dict[str, str] = {v.name: v.description for v in MLFLOW_SERVER_VARIABLES}
"""Every variable `mlflow server` reads for its options, and what the image does with it."""

MLFLOW_BOOLEANS: tuple[str, ...] = (
    "MLFLOW_ALLOW_FILE_STORE",
    "MLFLOW_ALLOW_HTTP_REDIRECTS",
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION",
    "MLFLOW_AUTOLOGGING_TESTING",
    "MLFLOW_BASIC_AUTH_FAIL_CLOSED",
    "MLFLOW_CONFIGURE_LOGGING",
    "MLFLOW_CONVERT_MESSAGES_DICT_FOR_LANGCHAIN",
    "MLFLOW_DISABLE_AGENT_HINT",
    "MLFLOW_DISABLE_DATABRICKS_SDK_FOR_RUN_ARTIFACTS",
    "MLFLOW_DISABLE_ENV_CREATION",
    "MLFLOW_DISABLE_ENV_MANAGER_CONDA_WARNING",
    "MLFLOW_DISABLE_HUGGINGFACE_ACCELERATE_FEATURES",
    "MLFLOW_DISABLE_SCHEMA_DETAILS",
    "MLFLOW_DISABLE_TELEMETRY",
    "MLFLOW_ENABLE_AI_GATEWAY",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
    "MLFLOW_ENABLE_ASSISTANT_SANDBOX",
    "MLFLOW_ENABLE_ASYNC_LOGGING",
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING",
    "MLFLOW_ENABLE_DBFS_FUSE_ARTIFACT_REPO",
    "MLFLOW_ENABLE_DB_SDK",
    "MLFLOW_ENABLE_MCP_TOOL_DISCOVERY",
    "MLFLOW_ENABLE_MULTIPART_DOWNLOAD",
    "MLFLOW_ENABLE_MULTIPART_UPLOAD",
    "MLFLOW_ENABLE_OTEL_GENAI_SEMCONV",
    "MLFLOW_ENABLE_OTLP_EXPORTER",
    "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD",
    "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD",
    "MLFLOW_ENABLE_REMOTE_ASSISTANT",
    "MLFLOW_ENABLE_SGC_RUN_RESUMPTION_FOR_DATABRICKS_JOBS",
    "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING",
    "MLFLOW_ENABLE_UC_FUNCTIONS",
    "MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY",
    "MLFLOW_ENABLE_UC_VOLUME_FUSE_ARTIFACT_REPO",
    "MLFLOW_ENABLE_WORKSPACES",
    "MLFLOW_ENFORCE_STDIN_SCORING_SERVER_FOR_SPARK_UDF",
    "MLFLOW_GATEWAY_API_BASE_ALLOW_PRIVATE_IPS",
    "MLFLOW_GATEWAY_RESOLVE_API_KEY_FROM_ENV",
    "MLFLOW_GATEWAY_RESOLVE_API_KEY_FROM_FILE",
    "MLFLOW_GENAI_EVAL_ENABLE_SCORER_TRACING",
    "MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION",
    "MLFLOW_GO_STORE_TESTING",
    "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER",
    "MLFLOW_HTTP_TCP_KEEPALIVE",
    "MLFLOW_HUGGINGFACE_USE_DEVICE_MAP",
    "MLFLOW_HUGGINGFACE_USE_LOW_CPU_MEM_USAGE",
    "MLFLOW_ICON_URL_ALLOW_PRIVATE_IPS",
    "MLFLOW_IN_CAPTURE_MODULE_PROCESS",
    "MLFLOW_LOCK_MODEL_DEPENDENCIES",
    "MLFLOW_LOG_UV_FILES",
    "MLFLOW_PRINT_MODEL_URLS_ON_CREATION",
    "MLFLOW_RBAC_SEED_DEFAULT_ROLES",
    "MLFLOW_RECORD_ENV_VARS_IN_MODEL_LOGGING",
    "MLFLOW_REQUIREMENTS_INFERENCE_RAISE_ERRORS",
    "MLFLOW_RUN_SLOW_TESTS",
    "MLFLOW_S3_IGNORE_TLS",
    "MLFLOW_SERVER_ENABLE_CUSTOM_SCORERS",
    "MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION",
    "MLFLOW_SERVER_JOB_ENABLE_PERIODIC_TASKS",
    "MLFLOW_SERVER_JOB_FLUSH_PERIODIC_LOCKS_ON_STARTUP",
    "MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK",
    "MLFLOW_SKIP_SIGNATURE_CHECK_FOR_UC_REGISTRY_MIGRATION",
    "MLFLOW_SQLALCHEMYSTORE_ECHO",
    "MLFLOW_SQL_TRACE_ROLLUPS_ENABLED",
    "MLFLOW_SQL_WAREHOUSE_AUTO_START",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT",
    "MLFLOW_TESTING",
    "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT",
    "MLFLOW_TRACE_EXTRACT_ATTACHMENTS",
    "MLFLOW_TRACE_PROPAGATE_TO_OTEL_CONTEXT",
    "MLFLOW_TRACE_USE_ISOLATED_RANDOM_ID_GENERATOR",
    "MLFLOW_TRACKING_AWS_SIGV4",
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRUNCATE_LONG_VALUES",
    "MLFLOW_USE_BATCH_SPAN_PROCESSOR",
    "MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC",
    "MLFLOW_USE_DEFAULT_TRACER_PROVIDER",
    "MLFLOW_UV_AUTO_DETECT",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS",
    "_MLFLOW_AUTH_ADMIN_BOOTSTRAPPED",
    "_MLFLOW_ENABLE_UC_TRACE_UPSELL",
    "_MLFLOW_EVALUATE_SUPPRESS_CLASSIFICATION_ERRORS",
    "_MLFLOW_IN_JOB_EXECUTOR",
    "_MLFLOW_IS_IN_SERVING_ENVIRONMENT",
    "_MLFLOW_SPARK_UDF_SERVERLESS_SKIP_DBCONNECT_ARTIFACT",
    "_MLFLOW_TELEMETRY_LOGGING",
    "_MLFLOW_TELEMETRY_PRE_WARM_DATABRICKS_SDK",
    "_MLFLOW_TESTING_TELEMETRY",
)
"""Every boolean variable of the pinned MLflow (mlflow.environment_variables), checked at start
so that a bad value is one line here, not a traceback inside MLflow after the migrations."""

MLFLOW_BOOL_VALUES = ("true", "false", "1", "0")
"""What MLflow's boolean variables accept (any case); anything else raises inside MLflow."""

CLICK_FLAGS = (
    "MLFLOW_SERVE_ARTIFACTS",
    "MLFLOW_ARTIFACTS_ONLY",
    "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE",
)
"""`mlflow server` flags read through click, which parses booleans its own way."""
CLICK_TRUE = ("1", "true", "t", "yes", "y", "on")
CLICK_FALSE = ("0", "false", "f", "no", "n", "off")

LAUNCHER_VARIABLES = (
    "MLFLOW_GUNICORN_OPTS",
    "MLFLOW_UVICORN_OPTS",
    "MLFLOW_EXPOSE_PROMETHEUS",
    "MLFLOW_TRACE_ARCHIVAL_CONFIG",
)
"""Variables only MLflow's own launcher (`mlflow server`) can honour: set, the image runs it."""

_STATIC_PREFIX = re.compile(r"^/[^{}]*[^/{}]$")
X_FRAME_OPTIONS = ("SAMEORIGIN", "DENY", "NONE")


def check_mlflow_booleans(env: Mapping[str, str]) -> None:
    """Refuse a set MLflow boolean that MLflow would reject (today: a traceback later)."""
    for name in MLFLOW_BOOLEANS:
        raw = env.get(name)
        if raw is not None and raw.strip().lower() not in MLFLOW_BOOL_VALUES:
            raise ConfigError(
                f"{name}={raw!r} is not a boolean MLflow accepts; allowed: true | false | 1 | 0"
            )
    for name in CLICK_FLAGS:
        raw = env.get(name)
        if raw and raw.strip().lower() not in CLICK_TRUE + CLICK_FALSE:
            raise ConfigError(f"{name}={raw!r} is not a boolean; allowed: true or false")


def mlflow_bool(env: Mapping[str, str], name: str) -> bool | None:
    """An MLflow boolean variable (checked by check_mlflow_booleans); None when unset/empty."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    return raw in CLICK_TRUE


def aliased(env: Mapping[str, str], contract: str, mlflow: str) -> str:
    """The value of `contract`, or of MLflow's `mlflow` variable meaning the same; "" if neither.

    Both set and different: refused (neither may silently override the other).
    """
    ours = env.get(contract, "").strip()
    theirs = env.get(mlflow, "").strip()
    if ours and theirs and ours != theirs:
        raise ConfigError(
            f"{mlflow}={theirs!r} disagrees with {contract}={ours!r}; allowed: set {contract} "
            f"only (or the same value in both)"
        )
    return ours or theirs


def refuse_unsupported(env: Mapping[str, str]) -> None:
    """Refuse the MLflow server variables the image cannot honour, naming what to use."""
    if env.get("MLFLOW_REGISTRY_STORE_URI", "").strip():
        raise ConfigError(
            "MLFLOW_REGISTRY_STORE_URI is set (value not shown); allowed: unset: the image "
            "keeps the model registry in the backend store (DATABASE_URI or DB_*), migrated "
            "under its lock"
        )
    if env.get("MLFLOW_WORKSPACE_STORE_URI", "").strip():
        raise ConfigError(
            "MLFLOW_WORKSPACE_STORE_URI is set (value not shown); allowed: unset: the image "
            "does not support MLflow workspaces"
        )
    if mlflow_bool(env, "MLFLOW_ENABLE_WORKSPACES"):
        raise ConfigError(
            f"MLFLOW_ENABLE_WORKSPACES={env['MLFLOW_ENABLE_WORKSPACES']!r} is not supported; "
            "allowed: false or unset (the image does not support MLflow workspaces)"
        )
    prefix = env.get("MLFLOW_STATIC_PREFIX")
    if prefix is not None and prefix and not _STATIC_PREFIX.match(prefix):
        raise ConfigError(
            f"MLFLOW_STATIC_PREFIX={prefix!r} is not a URL prefix; allowed: a path that starts "
            "with '/', does not end with '/' and has no '{' or '}' (e.g. /mlflow)"
        )
    frame = env.get("MLFLOW_SERVER_X_FRAME_OPTIONS")
    if frame is not None and frame.strip().upper() not in X_FRAME_OPTIONS:
        raise ConfigError(
            f"MLFLOW_SERVER_X_FRAME_OPTIONS={frame!r} is not supported; allowed: "
            + " | ".join(X_FRAME_OPTIONS)
        )


def artifact_mode(env: Mapping[str, str]) -> str:
    """ARTIFACT_MODE, with MLflow's SERVE_ARTIFACTS / ARTIFACTS_ONLY / DEFAULT_ARTIFACT_ROOT /
    ARTIFACTS_DESTINATION mapped onto it; contradictions refused, naming both variables."""
    raw = env.get("ARTIFACT_MODE", "").strip()
    modes = set(ARTIFACT_MODES)
    reasons: list[str] = []
    if raw:
        for choice in ARTIFACT_MODES:
            if raw.lower() == choice:
                modes = {choice}
                break
        else:
            raise ConfigError(
                f"ARTIFACT_MODE={raw!r} is not supported; allowed: {' | '.join(ARTIFACT_MODES)}"
            )
        reasons.append(f"ARTIFACT_MODE={raw!r}")
    constraints: list[tuple[str, set[str]]] = []
    serve = mlflow_bool(env, "MLFLOW_SERVE_ARTIFACTS")
    if serve is not None:
        allowed = {"proxied", "artifacts-only"} if serve else {"direct"}
        constraints.append((f"MLFLOW_SERVE_ARTIFACTS={env['MLFLOW_SERVE_ARTIFACTS']!r}", allowed))
    only = mlflow_bool(env, "MLFLOW_ARTIFACTS_ONLY")
    if only is not None:
        allowed = {"artifacts-only"} if only else {"proxied", "direct"}
        constraints.append((f"MLFLOW_ARTIFACTS_ONLY={env['MLFLOW_ARTIFACTS_ONLY']!r}", allowed))
    if env.get("MLFLOW_DEFAULT_ARTIFACT_ROOT", "").strip():
        constraints.append(("MLFLOW_DEFAULT_ARTIFACT_ROOT", {"direct"}))
    if env.get("MLFLOW_ARTIFACTS_DESTINATION", "").strip():
        constraints.append(("MLFLOW_ARTIFACTS_DESTINATION", {"proxied", "artifacts-only"}))
    for reason, allowed in constraints:
        if not modes & allowed:
            raise ConfigError(
                f"{reason} contradicts {' and '.join(reasons)}; allowed: ARTIFACT_MODE="
                f"{' | '.join(sorted(allowed))} with it, or unset {reason.split('=')[0]} and "
                "use ARTIFACT_MODE"
            )
        modes &= allowed
        reasons.append(reason)
    for choice in ("proxied", "direct", "artifacts-only"):
        if choice in modes:
            return choice
    raise AssertionError("unreachable: modes is never empty")  # pragma: no cover


def artifact_url(env: Mapping[str, str], mode: str) -> str:
    """ARTIFACT_URL, or MLflow's variable that names the same location in this mode ("" if none).

    artifact_mode() already refused the MLflow variable that does not fit the mode.
    """
    mlflow = "MLFLOW_DEFAULT_ARTIFACT_ROOT" if mode == "direct" else "MLFLOW_ARTIFACTS_DESTINATION"
    return aliased(env, "ARTIFACT_URL", mlflow)
