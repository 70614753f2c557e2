"""Compiled validators for built-in kinds, cached per process: (version, strict, patch, apiVersion, kind)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.core.schemas.derive import add_int_ranges, partial_copy
from bot.core.schemas.engine import CompiledSchema, SchemaDocuments, compile_schema
from bot.core.schemas.enums import add_known_enums
from bot.core.schemas.registry import DEFINITIONS_URI, load_definitions, load_kind_schema


@lru_cache(maxsize=16)
def _documents(version: str, strict: bool, patch: bool) -> SchemaDocuments:
    if patch:
        full = _documents(version, strict, False).documents[DEFINITIONS_URI]
        return SchemaDocuments({DEFINITIONS_URI: partial_copy(full)})
    definitions = load_definitions(version, strict)
    add_known_enums(definitions)
    add_int_ranges(definitions)
    return SchemaDocuments({DEFINITIONS_URI: definitions})


@lru_cache(maxsize=1024)
def builtin_validator(
    version: str, strict: bool, patch: bool, api_version: str, kind: str, engine: str
) -> CompiledSchema | None:
    """The compiled schema of a built-in kind, or None when the version ships none for it.

    ``patch``: the partial form for strategic-merge patches (nothing required, directives allowed).
    """
    schema = load_kind_schema(version, strict, api_version, kind)
    if schema is None:
        return None
    schema = partial_copy(schema) if patch else schema
    return compile_schema(schema, _documents(version, strict, patch), engine)


def definitions(version: str) -> dict[str, Any]:
    """The shared ``$defs`` of a Kubernetes version (cached with the compiled validators; do not mutate)."""
    defs: dict[str, Any] = _documents(version, False, False).documents[DEFINITIONS_URI].get("$defs", {})
    return defs


@lru_cache(maxsize=16)
def served_kinds(version: str) -> dict[str, tuple[str, ...]]:
    """kind -> the apiVersions that serve it as a built-in kind of ``version`` (from the definitions' GVK lists)."""
    served: dict[str, set[str]] = {}
    for schema in definitions(version).values():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            group, ver, kind = gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")
            if kind and ver and not kind.endswith("List") and kind not in ("WatchEvent", "DeleteOptions", "Status"):
                served.setdefault(kind, set()).add(f"{group}/{ver}" if group else ver)
    return {kind: tuple(sorted(versions)) for kind, versions in served.items()}


@lru_cache(maxsize=16)
def builtin_groups(version: str) -> frozenset[str]:
    """API groups whose every kind is built in ("" is the core group): no CRD can add kinds to them."""
    return frozenset(api_version.rpartition("/")[0] for versions in served_kinds(version).values() for api_version in versions)
