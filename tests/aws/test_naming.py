"""Physical names and the image tag digest (`mlflow_iac/aws/naming.py`)."""

from __future__ import annotations

import pytest

from mlflow_iac.aws import naming


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("mlflow", "dev", "mlflow-db", "final"), "mlflow-dev-mlflow-db-final"),
        (("my_proj", "prod.eu", "x"), "my-proj-prod-eu-x"),
        (("9lives", "--a--"), "m-9lives-a"),
    ],
)
def test_physical_name_is_a_valid_identifier(parts: tuple[str, ...], expected: str) -> None:
    assert naming.physical_name(*parts) == expected


def test_physical_name_is_shortened_with_a_stable_digest() -> None:
    long = naming.physical_name("p" * 40, "s" * 40, max_length=63)
    assert len(long) <= 63
    assert long == naming.physical_name("p" * 40, "s" * 40, max_length=63)
    assert "--" not in long and not long.endswith("-")
