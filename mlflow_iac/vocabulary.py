"""The words every layer shares: scenarios, database engines, sizes, auth permissions.

One home, imported by the stack config (`stacks/config.py`), the container
environment (`mlflow_iac/environment.py`) and every cloud's components, so a new
cloud adds its own *mappings* (engine -> its managed service, size -> its tiers)
keyed by these names and never a list of its own. The image's copies
(`docker/mlflow_image/contract.py`, which must import without this package) are
held equal to these by `tests/test_vocabulary.py`.
"""

from __future__ import annotations

SCENARIOS = {
    "local-server": 3,
    "direct": 4,
    "proxied": 5,
    "artifacts-only": 6,
}
"""Deployable MLflow scenarios by readable name -> number (DESIGN.md's numbering)."""

CLOUD_SCENARIOS = ("direct", "proxied", "artifacts-only")
"""Scenarios a cloud deploys: 4, 5 and 6. Scenario 3 (local-server) keeps SQLite and
artifacts inside the container, which only the local stack offers."""

DATABASE_SCENARIOS = ("local-server", "direct", "proxied")
"""Scenarios with a tracking backend store (3 on SQLite, 4 and 5 on a database server)."""

ARTIFACT_MODE_BY_SCENARIO = {
    "direct": "direct",
    "proxied": "proxied",
    "artifacts-only": "artifacts-only",
}
"""The image's ARTIFACT_MODE for each scenario that has a bucket."""

ENGINES = ("postgresql", "mysql")
"""Backend database engines; each cloud maps them onto its managed service."""

DB_SIZES = ("small", "medium", "large")
"""Database sizes; each cloud maps them onto its instance classes or tiers."""

PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
"""MLflow basic-auth permissions (the default permission of users on experiments)."""

DEFAULT_PERMISSION = "NO_PERMISSIONS"
"""Users see nothing they were not granted."""

CPU_CHOICES = (0.25, 0.5, 1.0, 2.0, 4.0)
"""vCPU sizes of the server container (serverCpu); each cloud may allow fewer of them."""

SSL_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
"""libpq sslmode values the stacks may ask the image for (DB_SSLMODE)."""


def require_choice(key: str, value: object, allowed: tuple[str, ...] | dict[str, int]) -> str:
    """`value` if it is one of `allowed`, else ValueError naming the key, value and choices."""
    if value not in allowed:
        raise ValueError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)
