"""Schema-to-schema transforms: integer ranges, and the partial form that strategic-merge patches need."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]

INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}

# Strategic-merge patch directives (kubectl / kustomize): they may appear in any object of a patch.
# https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md
PATCH_DIRECTIVE_PATTERN = r"^\$(patch|retainKeys|setElementOrder/.+|deleteFromPrimitiveList/.+)$"

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_SINGLES = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)


def walk_schemas(schema: Any, visit: Callable[[Schema], None]) -> None:
    """Call ``visit`` on ``schema`` and every subschema, following keywords (never property names)."""
    if not isinstance(schema, dict):
        return
    visit(schema)
    for key in _SCHEMA_MAPS:
        children = schema.get(key)
        if isinstance(children, dict):
            for child in children.values():
                walk_schemas(child, visit)
    for key in _SCHEMA_LISTS:
        children = schema.get(key)
        if isinstance(children, list):
            for child in children:
                walk_schemas(child, visit)
    for key in _SCHEMA_SINGLES:
        child = schema.get(key)
        if isinstance(child, list):
            for item in child:
                walk_schemas(item, visit)
        else:
            walk_schemas(child, visit)


def types_of(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    return [t for t in declared if isinstance(t, str)] if isinstance(declared, list) else []


def _add_int_range(schema: Schema) -> None:
    bounds = INT_RANGES.get(str(schema.get("format")))
    if bounds and "integer" in types_of(schema):
        schema.setdefault("minimum", bounds[0])
        schema.setdefault("maximum", bounds[1])


def add_int_ranges(schema: Schema) -> None:
    """``format: int32`` becomes a checked range, in place: formats only ever apply to strings."""
    walk_schemas(schema, _add_int_range)


def _make_partial(schema: Schema, allow_null: bool) -> None:
    schema.pop("required", None)
    if isinstance(schema.get("properties"), dict):
        patterns = schema.setdefault("patternProperties", {})
        if isinstance(patterns, dict):
            patterns.setdefault(PATCH_DIRECTIVE_PATTERN, {})
    if allow_null:
        declared = types_of(schema)
        if declared and "null" not in declared:
            schema["type"] = [*declared, "null"]
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]


def partial_copy(schema: Schema, *, allow_null: bool = False) -> Schema:
    """A copy that accepts any subset of a valid object: a strategic-merge patch.

    Drops every ``required``, allows the ``$patch``-style directive keys next to known
    properties, and with ``allow_null`` accepts ``null`` anywhere (a patch deletes with null;
    the built-in schemas already say every field is nullable).
    """
    result = copy.deepcopy(schema)
    walk_schemas(result, lambda s: _make_partial(s, allow_null))
    return result
