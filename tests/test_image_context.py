"""The image tag every cloud derives from the docker/ build context (mlflow_iac/image.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlflow_iac.image import context_digest


def test_context_digest_changes_with_content_only(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = context_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert context_digest(tmp_path) == first
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert context_digest(tmp_path) != first
    with pytest.raises(ValueError, match="image_context"):
        context_digest(tmp_path / "missing")
