"""Reusable MLflow ComponentResources, one sub-package per cloud with the same shape.

Installed as the distribution `mlflow-iac`, with the cloud's SDK as an extra
(`mlflow-iac[aws]`, `[gcp]`, `[azure]`, `[local]`, `[all]`): import `mlflow_iac.aws`,
`mlflow_iac.gcp`, `mlflow_iac.azure` or `mlflow_iac.local`; none imports another cloud's
SDK. `mlflow_iac.image.default_context()` is the mlflow-server image's build context that
travels with the package.
"""

__version__ = "0.1.0"
"""The package's version, its only source (pyproject.toml reads it); see the README's
"Use the components in your own stack" for the versioning rule."""
