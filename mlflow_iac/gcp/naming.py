"""Names and addresses on Google Cloud, computed without resources (tested without mocks).

Most GCP resources take Pulumi's auto-naming; a few need a physical name chosen by us
(Secret Manager secret ids, service account ids, the Artifact Registry repository id and
the Cloud Run service name, whose run.app host name MLflow must know before the service
exists). Those names are derived from project, stack and resource name, so two stacks
never collide and a re-run keeps them.
"""

from __future__ import annotations

import hashlib
import re

CLOUD_RUN_NAME_MAX = 49
"""Cloud Run service names: lowercase letters, digits and hyphens, at most 49 characters."""
ACCOUNT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
"""Service account ids: 6 to 30 characters."""
PROJECT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
"""Project ids: 6 to 30 lowercase letters, digits and hyphens, starting with a letter."""
REGION_PATTERN = re.compile(r"^[a-z]+(-[a-z]+)+[0-9]+$")
"""A region such as europe-west1 or northamerica-northeast2 (not a zone, not a multi-region)."""
SOCKET_ROOT = "/cloudsql"
"""Where Cloud Run mounts its Cloud SQL connections."""


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def physical_name(*parts: str, max_length: int = 63) -> str:
    """Lowercase letters, digits and single hyphens, starting with a letter, at most
    `max_length`; a long name keeps its start and ends in a digest of all `parts`."""
    joined = "-".join(parts)
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", joined.lower())).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"m-{cleaned}".rstrip("-")
    if len(cleaned) > max_length:
        cleaned = f"{cleaned[: max_length - 9].rstrip('-')}-{_digest(joined)}"
    return cleaned


def cloud_run_service_name(project: str, stack: str, name: str) -> str:
    """The Cloud Run service name of component `name` in this Pulumi project and stack."""
    return physical_name(project, stack, name, max_length=CLOUD_RUN_NAME_MAX)


def account_id(project: str, stack: str, name: str, role: str) -> str:
    """A service account id (6-30 characters) unique per project, stack, component and role:
    `<role>-<8 hex digits>`, the role readable in the IAM console."""
    prefix = re.sub(r"[^a-z0-9-]", "-", role.lower()).strip("-")[:20] or "sa"
    if not prefix[0].isalpha():
        prefix = f"sa-{prefix}"[:20]
    result = f"{prefix}-{_digest(project, stack, name, role)}"
    if not ACCOUNT_ID_PATTERN.match(result):
        raise ValueError(f"role: {role!r} gives no valid service account id ({result!r})")
    return result


def secret_id(project: str, stack: str, name: str) -> str:
    """A Secret Manager secret id (letters, digits, - and _, at most 255) for `name`."""
    return physical_name(project, stack, name, max_length=255)


def run_app_host(service_name: str, project_number: str, region: str) -> str:
    """The deterministic run.app host name Cloud Run gives a service:
    `<service>-<project number>.<region>.run.app`.

    Cloud Run serves every service on this name (besides an older hashed one), and it is
    known before the service exists, so MLflow's allowed hosts can name it.
    """
    if not re.fullmatch(r"[a-z]([a-z0-9-]{0,47}[a-z0-9])?", service_name):
        raise ValueError(f"service_name: {service_name!r} is not a Cloud Run service name")
    if not re.fullmatch(r"[0-9]{1,20}", project_number):
        raise ValueError(f"project_number: {project_number!r} is not a project number")
    if not REGION_PATTERN.match(region):
        raise ValueError(f"region: {region!r} is not a region such as europe-west1")
    return f"{service_name}-{project_number}.{region}.run.app"


def unserved_host_warning(host: str, urls: list[str]) -> str | None:
    """A warning when Cloud Run reports the URLs it serves and https://`host` is not one of
    them (MLflow would then refuse the run.app URL); None when it is, or nothing is known."""
    if not urls or f"https://{host}" in urls:
        return None
    return (
        f"Cloud Run serves {', '.join(urls)}, not the computed https://{host}: MLflow will "
        "refuse requests to the run.app URL (PUBLIC_HOSTNAMES)"
    )


def socket_host(connection_name: str) -> str:
    """DB_HOST for Cloud Run's Cloud SQL connection: `/cloudsql/PROJECT:REGION:INSTANCE`.

    For PostgreSQL a directory holding `.s.PGSQL.5432`, for MySQL the socket file itself;
    the image takes both forms (see the contract's DB_HOST).
    """
    if connection_name.count(":") < 2:
        raise ValueError(f"connection_name: {connection_name!r} is not PROJECT:REGION:INSTANCE")
    return f"{SOCKET_ROOT}/{connection_name}"


def image_repository_url(region: str, project: str, repository_id: str) -> str:
    """Docker address of an Artifact Registry repository."""
    return f"{region}-docker.pkg.dev/{project}/{repository_id}"


LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def labels(tags: dict[str, str]) -> dict[str, str]:
    """GCP labels from the stack's tags; ValueError naming the first tag GCP refuses
    (keys: lowercase letter first, then lowercase letters, digits, _ or -; values the same
    characters, at most 63)."""
    for key, value in tags.items():
        if not LABEL_KEY.match(key):
            raise ValueError(
                f"tags: key {key!r} is not a GCP label key (lowercase letter, then up to 62 "
                "lowercase letters, digits, _ or -)"
            )
        if not LABEL_VALUE.match(value):
            raise ValueError(
                f"tags: value {value!r} of {key!r} is not a GCP label value (up to 63 "
                "lowercase letters, digits, _ or -)"
            )
    return dict(tags)
