"""Entry of the mlflow-aws component package: the Python language host runs this directory."""

from mlflow_iac.plugin import serve

if __name__ == "__main__":
    serve("aws")
