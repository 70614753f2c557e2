"""File paths as a report shows them: relative to the repository root, not to the evaluated tree."""

from __future__ import annotations

import posixpath


def located(base_dir: str, file: str) -> str:
    """``file`` (relative to the evaluated tree) as seen from ``base_dir``'s parent: the repository root."""
    if not file:
        return ""
    if not base_dir or base_dir in (".", "./"):
        return file
    return posixpath.normpath(posixpath.join(base_dir.replace("\\", "/"), file))
