"""Reusable MLflow ComponentResources, one sub-package per cloud with the same shape."""
