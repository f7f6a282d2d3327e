"""No credential in a container's plain environment, command or arguments
(`no-plain-credentials`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mlflow_image import contract

from policy.rules.base import Resource, get, items, maps, parse_json, violation
from policy.rules.tokens import AZURE_APPS, CLOUD_RUN_V1, CLOUD_RUN_V2, DOCKER_CONTAINER, ECS_TASK

CREDENTIAL_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|ACCOUNT_?KEY"
    r"|CREDENTIAL|AUTH_STRING|CONNECTION_?STRING|(^|_)KEY$",
    re.IGNORECASE,
)
"""Names that say the value is a credential."""
REFERENCE_SUFFIX = re.compile(
    r"_(FILE|PATH|DIR|ID|ARN|NAME|REF|VERSION|ENABLED|URL|URI|ENDPOINT|HOST|PORT|USER|USERNAME"
    r"|TYPE|TTL|LENGTH|ALGORITHM)$",
    re.IGNORECASE,
)
"""Names that carry a pointer to a credential (a file, an id, a secret's name, the service
that issues it) or a property of one, not the credential. A URL with a password in it is
still caught by its value, and the contract's secret URIs by their names."""
REFERENCE_NAMES = frozenset({"GOOGLE_APPLICATION_CREDENTIALS"})
"""A path to a key file, by Google's convention."""

CREDENTIAL_VALUE = re.compile(
    r"[a-z][a-z0-9+.-]*://[^/\s:@]+:(?!\$)[^/\s@]+@"  # a URI with a password
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"  # PEM private key
    r"|\"private_key\"\s*:"  # a service-account key file
    r"|AccountKey=|SharedAccessSignature="  # Azure storage connection strings
    r"|[?&]sig=[A-Za-z0-9%+/=]{20,}"  # an Azure SAS URL
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_\w{20,}"  # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bAIza[0-9A-Za-z_-]{35}\b"  # Google API keys
    r"|\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}",  # a JWT
    re.IGNORECASE,
)
"""Values that look like a credential whatever their variable is called."""
CREDENTIAL_FLAG = re.compile(r"^--?([A-Za-z][\w-]*)(?:=(.*))?$")


def credential_variable(name: str, value: Any) -> str | None:
    """Why the plain variable `name=value` holds a credential, or None.

    The image's contract (`docker/mlflow_image/contract.py`) marks its secret variables;
    other names are judged by the words in them (`*_PASSWORD`, `*_SECRET*`, `*TOKEN*`,
    `*_KEY`...) unless they only point at a credential (`*_FILE`, `*_ID`, `*_ARN`...).
    Any value that looks like a credential (a URI with a password, a private key, a
    known token format) is one whatever its name.
    """
    if not isinstance(value, str) or not value:
        return None
    if name in contract.SECRET_NAMES:
        return f"{name} is a secret of the image's contract"
    if (
        CREDENTIAL_NAME.search(name)
        and not REFERENCE_SUFFIX.search(name)
        and name not in REFERENCE_NAMES
    ):
        return f"{name} is named like a credential"
    if CREDENTIAL_VALUE.search(value):
        return f"the value of {name} looks like a credential"
    return None


def credential_arguments(arguments: Iterable[Any]) -> list[str]:
    """Why a command line holds a credential: `--password x`, `--token=x`, or an argument
    (or a word of a shell script) that looks like a credential."""
    words: list[str] = []
    for argument in arguments:
        if isinstance(argument, str):
            words.extend(argument.split())
    found = []
    for index, word in enumerate(words):
        if CREDENTIAL_VALUE.search(word):
            found.append(f"word {index} of the command line looks like a credential")
            continue
        flag = CREDENTIAL_FLAG.match(word)
        if not flag:
            continue
        name = flag.group(1).replace("-", "_")
        if not CREDENTIAL_NAME.search(name) or REFERENCE_SUFFIX.search(name):
            continue
        value = flag.group(2)
        if value is None and index + 1 < len(words):
            value = words[index + 1]
        if value and not value.startswith(("-", "$")):
            found.append(f"--{flag.group(1)} is given on the command line")
    return found


@dataclass(frozen=True)
class Container:
    """A container's plain configuration, whatever the platform."""

    name: str
    env: list[tuple[str, Any]]
    """Plain (name, value) pairs; secret references are left out."""
    arguments: list[Any]
    """Entrypoint/command and arguments, concatenated."""


def _ecs_containers(props: Mapping[str, Any]) -> Iterator[Container]:
    for c in maps(parse_json(props.get("containerDefinitions"))):
        env = [(e.get("name", ""), e.get("value")) for e in maps(c.get("environment"))]
        yield Container(
            str(c.get("name", "")), env, items(c.get("entryPoint")) + items(c.get("command"))
        )


def _docker_containers(props: Mapping[str, Any]) -> Iterator[Container]:
    env = []
    for item in items(props.get("envs")):
        if isinstance(item, str):
            key, _, value = item.partition("=")
            env.append((key, value))
    arguments = items(props.get("entrypoints")) + items(props.get("command"))
    yield Container(str(props.get("name", "")), env, arguments)


def _named_env(items: Any, value_key: str = "value") -> list[tuple[str, Any]]:
    """Plain `{name, value}` env entries (entries that reference a secret have no value)."""
    return [(e.get("name", ""), e.get(value_key)) for e in maps(items)]


def _cloud_run_containers(props: Mapping[str, Any], *path: str) -> Iterator[Container]:
    for c in maps(get(props, *path)):
        arguments = items(c.get("commands")) + items(c.get("args"))
        yield Container(str(c.get("name", "")), _named_env(c.get("envs")), arguments)


def _azure_containers(props: Mapping[str, Any]) -> Iterator[Container]:
    template = props.get("template")
    for c in maps(get(template, "containers")) + maps(get(template, "initContainers")):
        arguments = items(c.get("command")) + items(c.get("args"))
        yield Container(str(c.get("name", "")), _named_env(c.get("env")), arguments)


def containers(r: Resource) -> list[Container]:
    """The containers a resource runs, with their plain environment and command line."""
    if r.type == ECS_TASK:
        return list(_ecs_containers(r.props))
    if r.type == DOCKER_CONTAINER:
        return list(_docker_containers(r.props))
    if r.type in CLOUD_RUN_V2:
        path = ("template", "template", "containers") if r.type.endswith("Job") else ()
        return list(_cloud_run_containers(r.props, *(path or ("template", "containers"))))
    if r.type == CLOUD_RUN_V1:
        return list(_cloud_run_containers(r.props, "template", "spec", "containers"))
    if r.type in AZURE_APPS:
        return list(_azure_containers(r.props))
    return []


def no_plain_credentials(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """No credential in a container's plain environment, command or arguments: they reach
    the container through the platform's secret mechanism (ECS `secrets`, Cloud Run
    `value_source.secret_key_ref`, Container Apps `secret_ref`, files under /run/secrets)."""
    found = []
    for container in containers(r):
        reasons = [
            why for key, value in container.env if (why := credential_variable(key, value))
        ] + credential_arguments(container.arguments)
        for why in reasons:
            found.append(
                violation(
                    r,
                    f"container '{container.name}': {why} in plain configuration",
                    "pass it through the platform's secret mechanism (ECS secrets, Cloud Run "
                    "secret_key_ref, Container Apps secret_ref, a secret file) and drop it from "
                    "the environment and command line",
                )
            )
    return found
