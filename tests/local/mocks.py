"""Realistic computed outputs of the Docker, docker-build and random resources the local stack
uses, registered in the shared harness (import this module to register them)."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

from tests import harness


def digest_of(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def password_for(name: str, inputs: dict[str, Any]) -> str:
    """The mocked result of RandomPassword `name`: deterministic, of the requested length,
    holding some of the allowed special characters when specials are on."""
    length = int(inputs.get("length", 16))  # numbers arrive as floats
    specials = inputs.get("overrideSpecial", "") if inputs.get("special", True) else ""
    return (f"{name}{specials[:3]}" * length).replace("-", "x")[:length]


def random_password(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"result": password_for(args.name, args.inputs), "bcryptHash": "$2a$10$mock"}


def network(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """Pulumi auto-names Docker networks: `<name>-<random suffix>`."""
    return {"name": f"{args.name}-1a2b3c4", "driver": "bridge"}


def volume(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": f"{args.name}-5d6e7f8", "mountpoint": f"/var/lib/docker/volumes/{args.name}"}


def remote_image(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"imageId": digest_of(args.inputs["name"]), "repoDigest": args.inputs["name"]}


def build_image(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """A loaded, not pushed build: `ref` is the tag, `digest` the build's."""
    tags = args.inputs.get("tags") or []
    return {"ref": tags[0] if tags else "", "digest": digest_of(args.name), "contextHash": "ctx"}


def container(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": f"{args.name}-9a8b7c6", "exitCode": 0, "networkDatas": []}


LOCAL_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": random_password,
    "docker:index/network:Network": network,
    "docker:index/volume:Volume": volume,
    "docker:index/remoteImage:RemoteImage": remote_image,
    "docker-build:index:Image": build_image,
    "docker:index/container:Container": container,
}

harness.OUTPUTS.update(LOCAL_OUTPUTS)
