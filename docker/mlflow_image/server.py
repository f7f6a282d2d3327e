"""The preloaded server: MLflow's app imported once, then gunicorn forks the uvicorn workers.

`mlflow server` imports the whole CLI, then starts `uvicorn --workers N`, whose workers each
import MLflow's app again (N + 2 interpreters of MLflow). Here the entrypoint's own process,
which already imported most of MLflow for the migrations, becomes gunicorn's arbiter: it
imports the app once (`preload_app`) and forks the workers, which share those pages
copy-on-write. The app is MLflow's FastAPI app (`mlflow.server.fastapi_app:app`) or the
basic-auth app (`mlflow.server.auth:create_app()`), exactly as `mlflow server` would serve
it under uvicorn, configured through the same private `_MLFLOW_*` variables its CLI sets
(`private_environment`; a test fails when the pinned MLflow's CLI would set one more).

Nothing that cannot cross a fork crosses it: the arbiter holds no database connection when
it forks (the basic-auth store's pool is disposed right after the app is built, and every
inherited pool is dropped again in the child without touching the parent's sockets), no
thread runs in it (checked and logged), and each worker creates its tracking and registry
stores when it starts (`post_worker_init`), not on its first request.
"""

# Lazy imports are deliberate: this module is imported only once the server is about to run.
# ruff: noqa: PLC0415

from __future__ import annotations

import gc
import logging
import os
import threading
import uuid
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import gunicorn.app.base

if TYPE_CHECKING:
    from mlflow_image.entrypoint import Plan

LOG = logging.getLogger("mlflow_image")

HEARTBEAT_SECONDS = 60
"""gunicorn restarts a worker whose event loop has not ticked for this long (uvicorn's worker
notifies the arbiter from its loop, so a slow request in the thread pool does not count)."""


def private_environment(plan: Plan, backend_uri: str | None) -> dict[str, str]:
    """The variables `mlflow server` sets for its workers (mlflow.server._run_server and the
    `server` command), for this plan. No mlflow import: this runs before the wait for the
    database, whose failure must not first pay for importing MLflow
    (tests/image/test_preloaded_unit.py holds every value to what MLflow's CLI sets)."""
    serve = plan.artifact_mode != "direct"
    artifacts_only = plan.artifact_mode == "artifacts-only"
    # `mlflow server` with no store falls back to a local SQLite file it never opens in
    # artifacts-only mode; keep it in DATA_DIR rather than the working directory.
    store = backend_uri or f"sqlite:///{plan.data_dir.rstrip('/')}/mlflow.db"
    # mlflow.utils.server_cli_utils.resolve_default_artifact_root: serving -> the proxy's
    # URI; direct -> the given root (the image always has one in direct mode).
    default_root = "mlflow-artifacts:/" if serve else plan.artifact_url
    env = {
        "_MLFLOW_SERVER_FILE_STORE": store,
        "_MLFLOW_SERVER_REGISTRY_STORE": store,
        "_MLFLOW_SERVER_ARTIFACT_ROOT": default_root,
        # Direct mode: the option's default, as `mlflow server` passes it (never served).
        "_MLFLOW_SERVER_ARTIFACT_DESTINATION": plan.artifact_url if serve else "./mlartifacts",
        "_MLFLOW_SERVER_BOOT_ID": uuid.uuid4().hex,
        "_MLFLOW_IN_JOB_EXECUTOR": "false",
        "_MLFLOW_SGI_NAME": "uvicorn",
        "MLFLOW_SERVER_SECRETS_CACHE_TTL": "60",
        "MLFLOW_SERVER_SECRETS_CACHE_MAX_SIZE": "1000",
        "MLFLOW_ENABLE_WORKSPACES": "false",
        "MLFLOW_SERVER_X_FRAME_OPTIONS": os.environ.get(
            "MLFLOW_SERVER_X_FRAME_OPTIONS", "SAMEORIGIN"
        ),
    }
    if serve:
        env["_MLFLOW_SERVER_SERVE_ARTIFACTS"] = "true"
    if artifacts_only:
        env["_MLFLOW_SERVER_ARTIFACTS_ONLY"] = "true"
    if plan.static_prefix:
        env["_MLFLOW_STATIC_PREFIX"] = plan.static_prefix
    if plan.read_replica is not None:
        from mlflow_image.entrypoint import url_to_string

        env["_MLFLOW_SERVER_READ_REPLICA_BACKEND_STORE"] = url_to_string(plan.read_replica)
    if plan.auth_enabled:
        # The entrypoint created or updated the admin under the migration lock already.
        env["_MLFLOW_AUTH_ADMIN_BOOTSTRAPPED"] = "true"
    return env


def _engines() -> list[Any]:
    """The SQLAlchemy engines MLflow's server modules hold in this process."""
    import sys

    engines = []
    auth = sys.modules.get("mlflow.server.auth")
    if auth is not None and getattr(auth.store, "engine", None) is not None:
        engines.append(auth.store.engine)
    handlers = sys.modules.get("mlflow.server.handlers")
    for name in ("_tracking_store", "_model_registry_store"):
        store = getattr(handlers, name, None) if handlers else None
        for attr in ("engine", "read_engine"):
            engine = getattr(store, attr, None)
            if engine is not None and hasattr(engine, "dispose"):
                engines.append(engine)
    return engines


def load_app(auth: bool) -> Any:
    """Import and build MLflow's ASGI app in this (the arbiter's) process, then make sure
    nothing that cannot cross a fork is left: no pooled connection, no thread."""
    if auth:
        from mlflow.server.auth import create_app

        app = create_app()
    else:
        with warnings.catch_warnings():
            # starlette's WSGI middleware deprecation: MLflow's choice, not actionable here.
            warnings.filterwarnings("ignore", message="starlette.middleware.wsgi is deprecated")
            from mlflow.server.fastapi_app import app
    for engine in _engines():
        engine.dispose()  # close the arbiter's connections: children open their own
    # Everything built so far lives as long as the process: out of the collector's reach,
    # the workers' collections neither walk it nor write to its pages (which would copy
    # them, page by page, out of the memory the workers share with the arbiter).
    gc.collect()
    gc.freeze()
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if threads:
        LOG.warning("threads alive before fork (they will not run in workers): %s", threads)
    else:
        LOG.info("app preloaded; no thread and no database connection crosses the fork")
    return app


def post_worker_init(worker: Any) -> None:
    """In each worker, after the fork: drop inherited pools, create the stores now."""
    for engine in _engines():
        engine.dispose(close=False)  # the parent's sockets are not ours to close
    if os.environ.get("_MLFLOW_SERVER_ARTIFACTS_ONLY") == "true":
        return
    _check_database(worker, os.environ["_MLFLOW_SERVER_FILE_STORE"])
    from mlflow.server.handlers import initialize_backend_stores

    initialize_backend_stores(
        os.environ["_MLFLOW_SERVER_FILE_STORE"],
        os.environ["_MLFLOW_SERVER_REGISTRY_STORE"],
        os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"],
        read_replica_backend_store_uri=os.environ.get("_MLFLOW_SERVER_READ_REPLICA_BACKEND_STORE"),
    )
    worker.log.info("worker %s: stores ready", worker.pid)


def _check_database(worker: Any, uri: str) -> None:
    """One bounded connection attempt before MLflow's store creation, whose engine retry
    would hang a worker's start for about 100 s with the database down. Unreachable: one
    log line and exit with gunicorn's boot-error code, which stops the whole server
    (visibly, for the platform to restart it) instead of a silent restart loop."""
    import sys

    import sqlalchemy
    import sqlalchemy.exc
    from gunicorn.arbiter import Arbiter
    from sqlalchemy.engine import make_url

    from mlflow_image.entrypoint import create_engine, mask_url, one_line

    url = make_url(uri)
    if url.drivername == "sqlite":
        return
    engine = create_engine(url, connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.SQLAlchemyError as exc:
        worker.log.error(
            "worker %s: database %s unreachable at worker start: %s; stopping the server",
            worker.pid,
            mask_url(url),
            one_line(exc),
        )
        sys.exit(Arbiter.WORKER_BOOT_ERROR)
    finally:
        engine.dispose()


CHECK_TIMEOUT_SECONDS = 5
"""Connect timeout of a worker's start-up check of the database."""


def _worker_class() -> type:
    with warnings.catch_warnings():
        # `uvicorn.workers` is deprecated in favour of the `uvicorn-worker` package, which
        # the image does not ship; the class is still uvicorn's own and fully supported here.
        warnings.simplefilter("ignore", DeprecationWarning)
        from uvicorn.workers import UvicornWorker

    class Worker(UvicornWorker):
        """uvicorn's gunicorn worker, with a bound on how long shutdown waits for requests."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # A second under gunicorn's graceful timeout: the worker closes its connections
            # itself before the arbiter would SIGKILL it.
            self.config.timeout_graceful_shutdown = max(1, int(self.cfg.graceful_timeout) - 1)

    return Worker


class PreloadedServer(gunicorn.app.base.BaseApplication):
    """gunicorn's arbiter configured from the plan, with MLflow's app preloaded."""

    def __init__(self, settings: Mapping[str, Any], auth: bool) -> None:
        self.settings = dict(settings)
        self.auth = auth
        super().__init__()

    def load_config(self) -> None:
        """Apply the settings (names as in gunicorn's config)."""
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the app (called once, in the arbiter, because preload_app is on)."""
        return load_app(self.auth)


def gunicorn_settings(plan: Plan) -> dict[str, Any]:
    """gunicorn's settings for the plan."""
    host = f"[{plan.host}]" if ":" in plan.host else plan.host
    return {
        "bind": [f"{host}:{plan.port}"],
        "workers": plan.workers,
        "worker_class": _worker_class(),
        "preload_app": True,
        "keepalive": plan.keep_alive,
        "graceful_timeout": plan.shutdown_seconds,
        "timeout": HEARTBEAT_SECONDS,
        "post_worker_init": post_worker_init,
        "errorlog": "-",
        "accesslog": "-",
        "loglevel": "info",
        "proc_name": "mlflow-server",
        # gunicorn's runtime control socket would be a file in $HOME (read-only in some
        # platforms) and an admin interface nobody asked for.
        "control_socket_disable": True,
        # Each worker's heartbeat is a temporary file gunicorn touches; in memory it never
        # waits on a slow disk, and it needs no writable /tmp on a read-only root.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }


def serve(plan: Plan) -> None:
    """Run the preloaded server in this process until it is stopped (SIGTERM: graceful)."""
    PreloadedServer(gunicorn_settings(plan), plan.auth_enabled).run()
