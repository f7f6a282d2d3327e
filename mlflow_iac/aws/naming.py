"""Names AWS needs that Pulumi cannot auto-name: physical identifiers and the image tag."""

from __future__ import annotations

import hashlib
import re


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
