"""The build context every cloud builds the image from, and the tag derived from it
(mlflow_iac/image.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlflow_iac.image import build_context, context_digest, default_context
from tests.harness import ROOT


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


def _context(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM scratch\n")
    return folder


def test_default_context_prefers_the_copy_an_installed_wheel_carries(tmp_path: Path) -> None:
    """An installed wheel: mlflow_iac/_image/ (pyproject.toml maps docker/ there)."""
    package = tmp_path / "site-packages" / "mlflow_iac"
    packaged = _context(package / "_image")
    _context(tmp_path / "site-packages" / "docker")  # a stray docker/ beside it loses
    assert default_context(package) == packaged


def test_default_context_falls_back_to_the_checkouts_docker_folder(tmp_path: Path) -> None:
    """A checkout (or its editable install): no _image/, docker/ beside the package."""
    (tmp_path / "mlflow_iac").mkdir()
    checkout = _context(tmp_path / "docker")
    assert default_context(tmp_path / "mlflow_iac") == checkout
    # This checkout: the real docker/, the image the image tests build.
    assert default_context() == ROOT / "docker"
    assert (ROOT / "mlflow_iac" / "_image").exists() is False


def test_default_context_without_a_dockerfile_names_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()  # a folder without a Dockerfile is not a context
    with pytest.raises(FileNotFoundError, match=r"^image_context: none given .*_image.*docker"):
        default_context(tmp_path / "mlflow_iac")


def test_build_context_is_the_given_one_else_the_default(tmp_path: Path) -> None:
    assert build_context(str(tmp_path)) == tmp_path
    assert build_context(None) == build_context("") == default_context()
