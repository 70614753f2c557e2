"""The payload fields each handler reads: a signed delivery without them is refused, not retried forever."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WHERE = ("installation.id", "repository.full_name")

# event -> dotted paths the handler indexes directly (optional fields are read with .get()).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "pull_request": (*_WHERE, "number", "pull_request.head.sha", "pull_request.base.sha"),
    "check_run": (*_WHERE, "check_run.head_sha"),
    "check_suite": (*_WHERE, "check_suite.head_sha"),
    "merge_group": (*_WHERE, "merge_group.head_sha", "merge_group.base_sha"),
}


def missing_fields(event: str, payload: Mapping[str, Any]) -> list[str]:
    """Required fields of ``event`` that ``payload`` lacks (or holds as something other than a string/number)."""
    return [path for path in REQUIRED_FIELDS.get(event, ()) if not _scalar_at(payload, path.split("."))]


def _scalar_at(value: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""
