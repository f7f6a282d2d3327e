"""Names AWS needs that Pulumi cannot auto-name: physical identifiers and the image tag."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path


def physical_name(*parts: str, max_length: int = 63) -> str:
    """A name for the few AWS fields Pulumi cannot auto-name (final snapshot id, task family):
    letters, digits and single hyphens, starting with a letter, unique per project/stack/resource
    when the caller passes those parts."""
    joined = "-".join(parts)
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", joined)).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"m-{cleaned}".rstrip("-")
    if len(cleaned) > max_length:
        digest = hashlib.sha256(joined.encode()).hexdigest()[:8]
        cleaned = f"{cleaned[: max_length - 9].rstrip('-')}-{digest}"
    return cleaned


def context_digest(context: Path, ignore: Sequence[str] = ("__pycache__", ".pytest_cache")) -> str:
    """A short content hash of a Docker build context: the image tag, so an unchanged context
    keeps its tag (immutable ECR tags) and a changed one gets a new tag and a new deployment."""
    if not context.is_dir():
        raise ValueError(f"image_context: {str(context)!r} is not a directory")
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context)
        if any(part in ignore or part.endswith(".pyc") for part in relative.parts):
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
