"""The mlflow-server image's build context, cloud-agnostic (no resources, no cloud SDK)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path


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
