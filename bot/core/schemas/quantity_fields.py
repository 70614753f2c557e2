"""Every resource.Quantity in a built-in object, found by walking the object along its OpenAPI schema.

Quantities are not only ``resources.limits``: emptyDir ``sizeLimit``, PVC and PV storage,
ResourceQuota ``hard``, LimitRange bounds, pod ``overhead`` ... The schema knows them all
(their ``$ref`` is ``io.k8s.apimachinery.pkg.api.resource.Quantity``), so no list is kept here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.core.jsonfields import mapping_at
from bot.core.resource import FieldPath
from bot.core.schemas.builtin import definitions
from bot.core.schemas.registry import load_kind_schema

QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_MAX_DEPTH = 64


def quantity_fields(version: str, api_version: str, kind: str, obj: Any) -> Iterator[tuple[FieldPath, Any]]:
    """``(path, value)`` of every value of ``obj`` that its built-in schema types as a Quantity."""
    schema = load_kind_schema(version, False, api_version, kind)
    if schema is None:
        return
    yield from _walk(definitions(version), schema, obj, (), 0)


def _resolve(defs: dict[str, Any], schema: Any) -> tuple[str, Any]:
    """(definition name or "", the schema with ``$ref`` followed)."""
    name = ""
    for _ in range(8):  # refs to refs are short chains in the Kubernetes definitions
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not isinstance(ref, str) or "#/$defs/" not in ref:
            break
        name = ref.rpartition("#/$defs/")[2]
        schema = defs.get(name, {})
    return name, schema


def _walk(
    defs: dict[str, Any], schema: Any, value: Any, path: FieldPath, depth: int
) -> Iterator[tuple[FieldPath, Any]]:
    if depth > _MAX_DEPTH or not isinstance(schema, dict):
        return
    name, schema = _resolve(defs, schema)
    if name == QUANTITY_DEF:
        if value is not None:
            yield path, value
        return
    if isinstance(value, dict):
        properties = mapping_at(schema, "properties")
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            sub = properties.get(key) if isinstance(key, str) else None
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is not None:
                yield from _walk(defs, sub, child, (*path, key), depth + 1)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, child in enumerate(value):
            yield from _walk(defs, schema["items"], child, (*path, index), depth + 1)
