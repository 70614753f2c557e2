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

# event -> the optional list of pull requests the handler reads, and what each entry must hold.
PULL_LISTS: dict[str, str] = {"check_run": "check_run.pull_requests", "check_suite": "check_suite.pull_requests"}
PULL_FIELDS = ("number", "base.sha")


def missing_fields(event: str, payload: Mapping[str, Any]) -> list[str]:
    """Required fields of ``event`` that ``payload`` lacks (or holds as something other than a string/number)."""
    missing = [path for path in REQUIRED_FIELDS.get(event, ()) if not _scalar_at(payload, path.split("."))]
    if event in PULL_LISTS:
        missing += _missing_in_pulls(payload, PULL_LISTS[event])
    return missing


def _missing_in_pulls(payload: Mapping[str, Any], path: str) -> list[str]:
    """Entries of an optional pull-request list: absent or empty is fine, a malformed entry is not."""
    parent: Any = payload
    *parents, last = path.split(".")
    for part in parents:
        parent = parent.get(part) if isinstance(parent, Mapping) else None
    pulls = parent.get(last) if isinstance(parent, Mapping) else None
    if pulls is None:
        return []
    if not isinstance(pulls, list):
        return [path]
    return [f"{path}[{i}].{field}" for i, pull in enumerate(pulls) for field in PULL_FIELDS
            if not _scalar_at(pull, field.split("."))]


def _scalar_at(value: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""
