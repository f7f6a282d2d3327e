"""The component package: hosts one cloud's `MlflowServer` for Pulumi programs in any
language (TypeScript, Go, C#, Java, YAML) through `pulumi.provider.experimental`.

One package per cloud, `mlflow-<cloud>` (`provider/mlflow-<cloud>/PulumiPlugin.yaml`), not one
`mlflow` package holding all four, because:

- the provider host serves only the `index` module and names a component by its class
  (`<package>:index:<ClassName>`), so four `MlflowServer` classes in one package would need
  renamed subclasses, and an instance would register under a type token other than the one
  the Python class registers (`mlflow-aws:index:MlflowServer`): the same component would
  have two types in state depending on the caller's language;
- with a package per cloud the token a TypeScript or YAML program asks for is exactly the one
  the Python class registers, so no class and no token changes;
- a host imports only its own cloud's SDK (the schema is built by importing the classes).

Only `MlflowServer` is hosted: the lower-level components take Outputs of each other and
`DatabaseEndpoint` dataclasses, which are Python-side wiring, not a cross-language contract.
"""

import importlib

import pulumi
from pulumi.provider.experimental import component_provider_host

import mlflow_iac

CLOUDS = ("aws", "gcp", "azure", "local")
"""The clouds with a component package, one `mlflow-<cloud>` package each."""

NAMESPACE = "mlflow-iac"
"""Schema namespace: the generated SDKs are named after it (e.g. `@mlflow-iac/mlflow-aws`)."""


def package_name(cloud: str) -> str:
    """The Pulumi package of one cloud: `mlflow-<cloud>`, the prefix of its type tokens."""
    if cloud not in CLOUDS:
        raise ValueError(f"cloud: {cloud!r} is not one of {', '.join(CLOUDS)}")
    return f"mlflow-{cloud}"


def components(cloud: str) -> list[type[pulumi.ComponentResource]]:
    """The components the package of `cloud` hosts; importing them loads that cloud's SDK
    only."""
    package_name(cloud)  # refuses an unknown cloud before any import
    return [importlib.import_module(f"mlflow_iac.{cloud}.server").MlflowServer]


def serve(cloud: str) -> None:
    """Run the provider host of `cloud`'s package until the engine stops it: prints the gRPC
    port on stdout, as the engine expects of a plugin (`component_provider_host`)."""
    component_provider_host(
        components=components(cloud),
        name=package_name(cloud),
        namespace=NAMESPACE,
        version=mlflow_iac.__version__,
    )
