"""Physical names and the image tag digest (`components/aws/naming.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.aws import naming


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


def test_context_digest_changes_with_content_only(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = naming.context_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert naming.context_digest(tmp_path) == first
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert naming.context_digest(tmp_path) != first
    with pytest.raises(ValueError, match="image_context"):
        naming.context_digest(tmp_path / "missing")
