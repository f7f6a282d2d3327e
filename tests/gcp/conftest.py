"""Realistic computed outputs and invoke results for the GCP resources the stack uses.

Registered into the shared harness (`OUTPUTS`, `INVOKES`) for the GCP tests only; the
harness raises on any other invoke. The provider's project and region come from the
environment variables the GCP provider reads (`GOOGLE_PROJECT`, `GOOGLE_REGION`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pulumi
import pytest

from tests import harness

PROJECT = "ml-platform-prod"
PROJECT_NUMBER = "123456789012"
REGION = "europe-west1"


def _hex(name: str, length: int = 8) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def physical(name: str, limit: int = 63) -> str:
    """The mocked auto-name of the resource named `name` (Pulumi adds a random suffix)."""
    return f"{name}-{_hex(name, 7)}"[:limit].lower()


def _bucket(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or physical(args.name)
    return {"name": name, "id": name, "url": f"gs://{name}", "selfLink": f"https://x/{name}"}


def _instance(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or physical(args.name)
    ip = args.inputs["settings"]["ipConfiguration"]
    return {
        "name": name,
        "id": name,
        "connectionName": f"{PROJECT}:{REGION}:{name}",
        "privateIpAddress": "10.20.0.3" if ip.get("privateNetwork") else "",
        "publicIpAddress": "" if ip.get("privateNetwork") else "34.76.1.2",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{PROJECT}/instances/{name}",
    }


def _secret(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    secret_id = args.inputs["secretId"]
    name = f"projects/{PROJECT_NUMBER}/secrets/{secret_id}"
    return {"id": f"projects/{PROJECT}/secrets/{secret_id}", "name": name}


def _secret_version(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"version": "1", "name": f"{args.inputs['secret']}/versions/1"}


def _account(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    email = f"{args.inputs['accountId']}@{PROJECT}.iam.gserviceaccount.com"
    return {
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{PROJECT}/serviceAccounts/{email}",
        "id": f"projects/{PROJECT}/serviceAccounts/{email}",
        "uniqueId": str(int(_hex(email, 12), 16)),
    }


def _key(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    key_file = {"type": "service_account", "private_key_id": _hex(args.name, 40)}
    return {"privateKey": base64.b64encode(json.dumps(key_file).encode()).decode()}


def _cloud_run(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs["name"]
    hashed = f"https://{name}-{_hex(name, 10)}-ew.a.run.app"
    return {
        "name": name,
        "id": f"projects/{PROJECT}/locations/{REGION}/services/{name}",
        "uri": hashed,
        # What Cloud Run reports: the deterministic URL and the older hashed one.
        "urls": [f"https://{name}-{PROJECT_NUMBER}.{REGION}.run.app", hashed],
    }


def _domain(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {
        "statuses": [
            {
                "resourceRecords": [
                    {
                        "name": args.inputs["name"].split(".")[0],
                        "type": "CNAME",
                        "rrdata": "ghs.googlehosted.com.",
                    }
                ]
            }
        ]
    }


def _image(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    tag = args.inputs["tags"][0]
    digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    return {"ref": f"{tag}@{digest}", "digest": digest}


def _named(prefix: str):
    def outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        name = args.inputs.get("name") or physical(args.name)
        return {"name": name, "id": f"projects/{PROJECT}/{prefix}/{name}", "selfLink": name}

    return outputs


GCP_OUTPUTS: dict[str, harness.OutputsFn] = {
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:sql/databaseInstance:DatabaseInstance": _instance,
    "gcp:sql/database:Database": lambda a: {"name": a.inputs["name"]},
    "gcp:sql/user:User": lambda a: {"name": a.inputs["name"]},
    "gcp:secretmanager/secret:Secret": _secret,
    "gcp:secretmanager/secretVersion:SecretVersion": _secret_version,
    "gcp:serviceaccount/account:Account": _account,
    "gcp:serviceaccount/key:Key": _key,
    "gcp:cloudrunv2/service:Service": _cloud_run,
    "gcp:cloudrun/domainMapping:DomainMapping": _domain,
    "gcp:artifactregistry/repository:Repository": lambda a: {
        "name": a.inputs["repositoryId"],
        "id": f"projects/{PROJECT}/locations/{REGION}/repositories/{a.inputs['repositoryId']}",
    },
    "docker-build:index:Image": _image,
    "gcp:compute/network:Network": _named("global/networks"),
    "gcp:compute/subnetwork:Subnetwork": _named(f"regions/{REGION}/subnetworks"),
    "gcp:compute/globalAddress:GlobalAddress": _named("global/addresses"),
    "gcp:servicenetworking/connection:Connection": lambda a: {"id": f"{a.name}-peering"},
    "random:index/randomPassword:RandomPassword": lambda a: {
        "result": ("Rnd-" + _hex(a.name, 40))[: int(a.inputs.get("length", 16))]
    },
}

GCP_INVOKES: dict[str, harness.InvokeFn] = {
    "gcp:organizations/getClientConfig:getClientConfig": lambda args: {
        "project": PROJECT,
        "region": REGION,
        "zone": f"{REGION}-b",
        "accessToken": "ya29.mock-access-token",
        "id": PROJECT,
        "defaultLabels": {},
    },
    "gcp:organizations/getProject:getProject": lambda args: {
        "projectId": args.get("projectId", PROJECT),
        "number": PROJECT_NUMBER,
        "name": "ML platform",
        "id": f"projects/{PROJECT}",
    },
}


@pytest.fixture(autouse=True)
def gcp_mocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the GCP outputs and invokes, and the provider's project and region, for one
    test; monkeypatch removes them after."""
    for token, outputs in GCP_OUTPUTS.items():
        monkeypatch.setitem(harness.OUTPUTS, token, outputs)
    for token, invoke in GCP_INVOKES.items():
        monkeypatch.setitem(harness.INVOKES, token, invoke)
    for variable in ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GOOGLE_PROJECT", PROJECT)
    monkeypatch.setenv("GOOGLE_REGION", REGION)
