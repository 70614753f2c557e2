"""Read a field path out of plain YAML values, and find its line in a loaded document (provenance's shared helpers)."""

from __future__ import annotations

from typing import Any

from bot.core.resource import FieldPath
from bot.core.yamlpos import YamlDocument

MISSING: Any = object()  # a path that is not there (None is a value)


def value_at(obj: Any, path: FieldPath) -> Any:
    """The value at ``path`` (list items by index), or `MISSING`."""
    for part in path:
        if isinstance(part, int) and isinstance(obj, list) and 0 <= part < len(obj):
            obj = obj[part]
        elif isinstance(part, str) and isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return MISSING
    return obj


def deepest_present(obj: Any, path: FieldPath) -> FieldPath:
    """The longest prefix of ``path`` that ``obj`` has (a finding on a missing field points at its parent)."""
    for n in range(len(path), -1, -1):
        if value_at(obj, path[:n]) is not MISSING:
            return path[:n]
    return ()


def doc_position(doc: YamlDocument, path: FieldPath) -> tuple[int, int]:
    """(line, column) of ``path`` in ``doc``, else of its nearest ancestor, else of the document."""
    p = tuple(path)
    while p:
        if p in doc.positions:
            return doc.positions[p]
        p = p[:-1]
    return doc.positions.get((), (doc.line, 1))
