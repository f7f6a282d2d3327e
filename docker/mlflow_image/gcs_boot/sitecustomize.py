"""Loaded at start by every Python process of the server when the artifact root is gs://
(the entrypoint puts this directory first on PYTHONPATH): GCS URLs are then signed through
IAM when the credentials hold no key (see `mlflow_image.gcs_signing`)."""

from mlflow_image import gcs_signing

gcs_signing.install_on_import()
