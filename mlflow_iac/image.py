"""The mlflow-server image's build context, cloud-agnostic (no resources, no cloud SDK).

Every cloud's `Service` builds the image from one place, `build_context()`: the context
the caller named (`image_context`), else the one that travels with this package
(`default_context()`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The `mlflow_iac` package folder, in a wheel's install or in a checkout."""


def default_context(package_dir: Path = PACKAGE_DIR) -> Path:
    """The mlflow-server image's build context that ships with this package.

    An installed wheel carries it as package data, `mlflow_iac/_image/` (pyproject.toml's
    `[tool.hatch.build.targets.wheel]` maps the repository's `docker/` there). A checkout,
    or its editable install, has no `_image/`: the context is the checkout's `docker/`
    beside the package. Either must hold a Dockerfile; anything else fails here, before
    any resource, with the folders it looked in.
    """
    candidates = (package_dir / "_image", package_dir.parent / "docker")
    for candidate in candidates:
        if (candidate / "Dockerfile").is_file():
            return candidate
    looked = ", ".join(repr(str(c)) for c in candidates)
    raise FileNotFoundError(
        f"image_context: none given and no mlflow-server build context with a Dockerfile "
        f"in {looked}; reinstall mlflow-iac or pass image_context or image"
    )


def build_context(image_context: str | None) -> Path:
    """The build context a `Service` builds from: `image_context` when given, else the
    packaged one (`default_context()`)."""
    return Path(image_context) if image_context else default_context()


def context_digest(context: Path, ignore: Sequence[str] = ("__pycache__", ".pytest_cache")) -> str:
    """A short content hash of a Docker build context, used as the image tag: an unchanged
    context keeps its tag, a changed one gets a new tag and so a new deployment."""
    if not context.is_dir():
        raise ValueError(f"image_context: {str(context)!r} is not a directory")
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context)
        if any(part in ignore or part.endswith(".pyc") for part in relative.parts):
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
