"""What the local stack needs to know about each database engine's official image.

Resource-free: the pinned image, port, data directory, the image's own user, the
environment that sets up MLflow's database and user from password *files*, and the
health check. `mlflow_iac.local.database.Database` turns one `EngineSpec` into a
container. Keys are the shared engine names of `mlflow_iac.vocabulary.ENGINES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow_iac.local.secrets import SECRETS_DIR

PASSWORD_FILE = "db-password"
"""MLflow's database password, as a file under /run/secrets."""
ROOT_PASSWORD_FILE = "db-root-password"
"""MySQL's root password, as a file under /run/secrets (PostgreSQL needs none)."""


@dataclass(frozen=True)
class EngineSpec:
    """One engine's official image and how it is configured."""

    engine: str
    """`postgresql` or `mysql`."""
    image: str
    """Pinned image tag."""
    port: int
    """TCP port the server listens on."""
    data_dir: str
    """The data directory, where the named volume is mounted."""
    image_uid: str = "999"
    """The `postgres` / `mysql` user of both official images; owns the password files."""

    @property
    def has_root_password(self) -> bool:
        """Whether the image needs a root password of its own (MySQL does)."""
        return self.engine == "mysql"

    def secret_files(self) -> tuple[str, ...]:
        """The password files the container gets under /run/secrets."""
        return (PASSWORD_FILE, ROOT_PASSWORD_FILE) if self.has_root_password else (PASSWORD_FILE,)

    def environment(self, db_name: str, username: str) -> dict[str, str]:
        """The image's set-up variables: database, user and password *files*, no value."""
        if self.has_root_password:
            return {
                "MYSQL_DATABASE": db_name,
                "MYSQL_USER": username,
                "MYSQL_PASSWORD_FILE": f"{SECRETS_DIR}/{PASSWORD_FILE}",
                "MYSQL_ROOT_PASSWORD_FILE": f"{SECRETS_DIR}/{ROOT_PASSWORD_FILE}",
            }
        return {
            "POSTGRES_DB": db_name,
            "POSTGRES_USER": username,
            "POSTGRES_PASSWORD_FILE": f"{SECRETS_DIR}/{PASSWORD_FILE}",
        }

    def health_test(self, db_name: str, username: str) -> list[str]:
        """The container's health check command."""
        if self.has_root_password:
            # `ping` answers without credentials once the server accepts connections.
            return ["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]
        return ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", username, "-d", db_name]


ENGINES: dict[str, EngineSpec] = {
    "postgresql": EngineSpec(
        "postgresql", "postgres:17.6-bookworm", 5432, "/var/lib/postgresql/data"
    ),
    "mysql": EngineSpec("mysql", "mysql:8.4.6", 3306, "/var/lib/mysql"),
}
"""Pinned images per engine (PostgreSQL 17, MySQL 8.4 LTS)."""
