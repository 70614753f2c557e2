"""Typed reads of decoded YAML/JSON fields: the value when it has the expected type, else an empty one.

Everything a pull request carries is hostile, so a field of the wrong type reads as absent rather than
raising; the return types let the type checker follow the value instead of an ``Any | None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def mapping_at(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``obj[key]`` when it is a mapping (the same object, so writes reach ``obj``), else a new empty dict."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def list_at(obj: Mapping[str, Any], key: str) -> list[Any]:
    """``obj[key]`` when it is a list, else a new empty list."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


def str_at(obj: Mapping[str, Any], key: str) -> str:
    """``obj[key]`` when it is a string, else ``""``."""
    value = obj.get(key)
    return value if isinstance(value, str) else ""
