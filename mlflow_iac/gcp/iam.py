"""IAM on Google Cloud: the roles the MLflow server and its clients get, the principals and
the conditions that scope them (pure; tested without mocks).

Every grant is on one resource (this bucket, these secrets, this service account) except
`roles/cloudsql.client`, which Cloud SQL grants on the project only: it is conditioned to
this instance's resource name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

BUCKET_ROLE = "roles/storage.objectUser"
"""Read, write, list and delete objects, and XML multipart uploads; no bucket settings, no IAM."""
SECRET_ROLE = "roles/secretmanager.secretAccessor"
"""Read one secret's versions."""
CLOUD_SQL_ROLE = "roles/cloudsql.client"
"""Connect through the Cloud SQL connector (Cloud Run's /cloudsql socket)."""
TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator"
"""Holds iam.serviceAccounts.signBlob: on the server's own account only, so that MLflow can
sign the GCS URLs of proxied multipart uploads with the metadata server's credentials."""
INVOKER_ROLE = "roles/run.invoker"
IAP_ACCESSOR_ROLE = "roles/iap.httpsResourceAccessor"
"""Lets a principal through Identity-Aware Proxy to one Cloud Run service."""
PUBLIC_INVOKER = "allUsers"
"""Anyone may reach the run.app URL; MLflow's basic-auth guards it."""

MEMBER_PATTERN = re.compile(r"^(user|group|serviceAccount|domain|principal|principalSet):[^\s]+$")
"""IAM principals people and jobs are named by (user:a@b.c, group:..., serviceAccount:...)."""


def service_account_member(email: str) -> str:
    """The IAM member of a service account."""
    if "@" not in email:
        raise ValueError(f"email: {email!r} is not a service account e-mail")
    return f"serviceAccount:{email}"


def iap_service_agent(project_number: str) -> str:
    """The IAM member of the project's IAP service agent, which must invoke an IAP-guarded
    Cloud Run service on the users' behalf."""
    if not project_number.isdigit():
        raise ValueError(f"project_number: {project_number!r} is not a project number")
    return f"serviceAccount:service-{project_number}@gcp-sa-iap.iam.gserviceaccount.com"


def check_members(name: str, members: Sequence[str]) -> list[str]:
    """`members` if every one is an IAM principal (never allUsers/allAuthenticatedUsers)."""
    for member in members:
        if not MEMBER_PATTERN.match(member):
            raise ValueError(
                f"{name}: {member!r} is not an IAM principal such as user:ana@example.com, "
                "group:ml@example.com or serviceAccount:job@PROJECT.iam.gserviceaccount.com"
            )
    return list(members)


CLOUD_SQL_CONDITION_TITLE = "only-this-instance"


def cloud_sql_condition_expression(project: str, instance: str) -> str:
    """The CEL expression limiting a project-level Cloud SQL grant to one instance."""
    if not project or not instance:
        raise ValueError("project, instance: both required for the Cloud SQL condition")
    return (
        'resource.type == "sqladmin.googleapis.com/Instance" && '
        f'resource.name == "projects/{project}/instances/{instance}"'
    )
