"""The mlflow-server image's entrypoint package: see entrypoint.py and contract.py."""
