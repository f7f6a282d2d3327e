"""The compared server configurations, started exactly as the end-to-end tests start them.

(a) `image-pg`: the image's entrypoint (`python -m mlflow_image`) with its defaults on
    PostgreSQL (DB_* parts), proxied artifacts on moto S3 (scenario 5, what stacks deploy).
(b) `image-maria`: the same on MariaDB.
(c) `plain-sqlite`: the seeds' default, plain `mlflow server` on a SQLite file with
    MLflow's defaults (4 uvicorn workers, job runner on, ./mlartifacts) as seeds 001/003.
(d) `plain-pg`: plain `mlflow server` on PostgreSQL with MLflow's defaults.

Every server gets the same clean environment (`services.entrypoint_env`), including this
process's PYTHONDONTWRITEBYTECODE, so every configuration runs under the same byte-code
setting.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests import services

sys.path.insert(0, str(services.DOCKER_DIR))
from mlflow_image import entrypoint as image_entrypoint  # after the path set-up

BUCKET_PREFIX = "bench-"


@dataclass(frozen=True)
class Config:
    """One compared configuration."""

    key: str
    name: str
    label: str
    image: bool
    """True: the image's entrypoint; False: plain `mlflow server`."""
    db: str
    """postgresql | mariadb | sqlite"""
    env: tuple[tuple[str, str], ...] = ()
    """Extra server environment (tuning variants)."""


CONFIGS: dict[str, Config] = {
    c.key: c
    for c in (
        Config("a", "image-pg", "(a) image defaults, PostgreSQL", True, "postgresql"),
        Config("b", "image-maria", "(b) image defaults, MariaDB", True, "mariadb"),
        Config("c", "plain-sqlite", "(c) seeds' default: mlflow server + SQLite", False, "sqlite"),
        Config("d", "plain-pg", "(d) plain mlflow server, PostgreSQL", False, "postgresql"),
    )
}
BASELINE = "c"


def add_variant(spec: str) -> str:
    """Register a tuning variant `KEY=BASE:VAR=value[,VAR=value]` (e.g. `w4=a:SERVER_WORKERS=4`).

    Returns its key; it runs like configuration BASE with the extra server environment.
    """
    key, _, rest = spec.partition("=")
    base_key, _, assignments = rest.partition(":")
    base = CONFIGS[base_key]
    env = tuple(
        (name, value)
        for name, _, value in (item.partition("=") for item in assignments.split(","))
        if name and _
    )
    text = ",".join(f"{k}={v}" for k, v in env)
    CONFIGS[key] = Config(
        key,
        f"{base.name}[{text}]",
        f"{base.label} + {text}",
        base.image,
        base.db,
        env,
    )
    return key


@dataclass
class Services:
    """The real services a run needs, started lazily and stopped at the end."""

    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    pg: services.Postgres | None = None
    maria: services.MariaDB | None = None
    s3: services.Emulator | None = None
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp")))

    def postgres(self) -> services.Postgres:
        """The run's PostgreSQL (started on first use)."""
        if self.pg is None:
            self.pg = self.stack.enter_context(services.postgres())
        return self.pg

    def mariadb(self) -> services.MariaDB:
        """The run's MariaDB (started on first use)."""
        if self.maria is None:
            self.maria = self.stack.enter_context(services.mariadb())
        return self.maria

    def moto(self) -> services.Emulator:
        """The run's moto S3 server (started on first use)."""
        if self.s3 is None:
            self.s3 = self.stack.enter_context(services.moto_s3())
        return self.s3

    def bucket(self) -> str:
        """A new bucket on moto."""
        name = BUCKET_PREFIX + uuid.uuid4().hex[:10]
        services.create_s3_bucket(self.moto(), name)
        return name

    def close(self) -> None:
        """Stop every service and remove the temp directory."""
        self.stack.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Database:
    """One database of one configuration: how the entrypoint and plain mlflow reach it."""

    engine: str
    entrypoint_env: dict[str, str]
    uri: str
    """SQLAlchemy URI (what plain `mlflow server --backend-store-uri` gets)."""


def new_database(svc: Services, engine: str) -> Database:
    """A fresh, empty database (schema not created yet) on the run's server for `engine`."""
    name = "b" + uuid.uuid4().hex[:12]
    password = "pw-" + uuid.uuid4().hex[:16]
    if engine == "postgresql":
        pg = svc.postgres()
        pg.create_database(name, name, password)
        env = {
            "DB_ENGINE": "postgresql",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(pg.port),
            "DB_NAME": name,
            "DB_USER": name,
            "DB_PASSWORD": password,
        }
        # +psycopg2 spelled out: with SQLAlchemy 2.1 a bare postgresql:// means psycopg 3, which
        # neither this venv nor the image ships (plain `mlflow server` then fails to start).
        uri = f"postgresql+psycopg2://{name}:{password}@127.0.0.1:{pg.port}/{name}"
        return Database(engine, env, uri)
    if engine == "mariadb":
        maria = svc.mariadb()
        maria.create_database(name, name, password)
        env = {
            "DB_ENGINE": "mysql",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(maria.port),
            "DB_NAME": name,
            "DB_USER": name,
            "DB_PASSWORD": password,
        }
        uri = f"mysql+pymysql://{name}:{password}@127.0.0.1:{maria.port}/{name}"
        return Database(engine, env, uri)
    directory = svc.tmp / name
    directory.mkdir(parents=True)
    path = directory / "mlflow.db"
    return Database(engine, {"DATABASE_URI": f"sqlite:///{path}"}, f"sqlite:///{path}")


class BenchServer(services.EntrypointServer):
    """An EntrypointServer that can also run plain `mlflow server`, with a fine health poll."""

    def __init__(
        self,
        env: dict[str, str],
        plain_args: tuple[str, ...] | None = None,
        cwd: Path | None = None,
        log_dir: str | None = None,
    ) -> None:
        """`plain_args` set: run `python -m mlflow server <plain_args>` in `cwd` instead."""
        super().__init__(env, log_dir=log_dir)
        self.plain_args = plain_args
        self.cwd = cwd

    def start(self) -> BenchServer:
        """Start the server (returns at once); the clock of the cold start starts here."""
        if self.plain_args is None:
            super().start()
            return self
        command = [sys.executable, "-m", "mlflow", "server", *self.plain_args]
        own = ("HOST", "PORT", "SERVER_WORKERS")  # the entrypoint's, not plain mlflow's
        env = services.entrypoint_env({k: v for k, v in self.env.items() if k not in own})
        self.started_at = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                env=env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_healthy_fine(self, timeout: float = 180, interval: float = 0.05) -> float:
        """Poll /health every `interval` s (bounded); return seconds from start to healthy."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / interval) + 2):
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log()}")
            if services.http_status(f"{self.url}/health", timeout=2) == 200:
                self.healthy_after = time.monotonic() - self.started_at
                return self.healthy_after
            if time.monotonic() > deadline:
                break
            time.sleep(interval)
        self.stop()
        raise TimeoutError(f"server not healthy after {timeout}s:\n{self.log()}")


def make_server(
    svc: Services,
    config: Config,
    db: Database,
    bucket: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> BenchServer:
    """A (not started) server of `config` on `db`.

    Image configurations: the image's defaults (SERVER_WORKERS as the image sets it, not the
    tests' 1), proxied artifacts to `bucket` on moto (a new one when None). Plain
    configurations: `mlflow server --host --port --backend-store-uri` and nothing else.
    """
    log_dir = str(svc.tmp)
    if config.image:
        moto = svc.moto()
        data_dir = svc.tmp / ("data-" + uuid.uuid4().hex[:8])
        env = {
            **db.entrypoint_env,
            **moto.env,
            "SERVER_WORKERS": str(image_entrypoint.DEFAULT_WORKERS),
            "ARTIFACT_URL": f"s3://{bucket or svc.bucket()}",
            "DATA_DIR": str(data_dir),
            **dict(config.env),
            **(extra_env or {}),
        }
        return BenchServer(env, log_dir=log_dir)
    cwd = svc.tmp / ("cwd-" + uuid.uuid4().hex[:8])
    cwd.mkdir()
    server = BenchServer({**dict(config.env), **(extra_env or {})}, log_dir=log_dir, cwd=cwd)
    server.plain_args = (
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--backend-store-uri",
        db.uri,
    )
    return server


@contextlib.contextmanager
def running(server: BenchServer, timeout: float = 180) -> Iterator[BenchServer]:
    """Start `server`, wait for health, and always stop it (and remove its log)."""
    server.start()
    try:
        server.wait_healthy_fine(timeout)
        yield server
    finally:
        server.stop()
        server.log_path.unlink(missing_ok=True)
