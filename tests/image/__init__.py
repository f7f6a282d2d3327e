"""Tests of the mlflow-server image (docker/): unit, config errors, real-service e2e."""
