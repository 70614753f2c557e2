"""What the constraint CRD Gatekeeper generates from a template accepts besides typed parameters: names, versions, known fields.

Gatekeeper (frameworks ``crds.ValidateCR``) rejects a constraint whose name is not a
DNS-1123 subdomain of at most 63 characters, whose version is not v1alpha1/v1beta1,
or that carries a field its structural schema would prune: a typo such as
``spec.paramters`` or ``parameters.allowedImage`` is an error, not a silent no-op.
Templates with a legacy schema (``templates.gatekeeper.sh/v1beta1`` by default)
keep unknown parameters, as Gatekeeper's ``AddPreserveUnknownFields`` does.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.resource import FieldPath

CONSTRAINT_VERSIONS = ("v1alpha1", "v1beta1")
MAX_NAME_LENGTH = 63  # the generated CRD's metadata.name maxLength
_DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PRESERVE = "x-kubernetes-preserve-unknown-fields"

_SELECTOR = {
    "type": "object",
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": {}, "operator": {}, "values": {"type": "array", "items": {"type": "string"}}},
            },
        },
    },
}
_MATCH = {
    "type": "object",
    "properties": {
        "kinds": {"type": "array", "items": {"type": "object", "properties": {"apiGroups": {}, "kinds": {}}}},
        "scope": {},
        "namespaces": {},
        "excludedNamespaces": {},
        "labelSelector": _SELECTOR,
        "namespaceSelector": _SELECTOR,
        "name": {},
        "source": {},
    },
}
_SCOPED_ACTIONS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "action": {},
            "enforcementPoints": {"type": "array", "items": {"type": "object", "properties": {"name": {}}}},
        },
    },
}


def name_problem(name: str) -> str | None:
    """Why Gatekeeper refuses ``name`` as a constraint name, if it does."""
    if len(name) > MAX_NAME_LENGTH:
        return f"the name {name!r} is longer than {MAX_NAME_LENGTH} characters"
    if not _DNS1123_SUBDOMAIN_RE.match(name):
        return (
            f"the name {name!r} must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


def version_problem(api_version: Any) -> str | None:
    version = api_version.rsplit("/", 1)[-1] if isinstance(api_version, str) else ""
    if version in CONSTRAINT_VERSIONS:
        return None
    return f"constraint version {version!r} is not served; use {' or '.join(CONSTRAINT_VERSIONS)}"


TOP_LEVEL_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")


def unknown_top_level_fields(obj: dict[str, Any]) -> list[FieldPath]:
    """``sepc:`` and friends: the generated CRD declares only the usual top-level fields."""
    return [(key,) for key in obj if key not in TOP_LEVEL_FIELDS]


def unknown_spec_fields(spec: dict[str, Any], parameters_schema: dict[str, Any] | None, legacy: bool) -> list[FieldPath]:
    """Fields of ``spec`` the constraint's structural schema does not declare (what pruning would drop)."""
    if parameters_schema is None or legacy:
        parameters: dict[str, Any] = {_PRESERVE: True}
    else:
        parameters = parameters_schema
    schema = {
        "type": "object",
        "properties": {
            "match": _MATCH,
            "enforcementAction": {"type": "string"},
            "scopedEnforcementActions": _SCOPED_ACTIONS,
            "parameters": parameters,
        },
    }
    return _unknown(spec, schema, ("spec",))


def _unknown(value: Any, schema: Any, path: FieldPath) -> list[FieldPath]:
    if not isinstance(schema, dict):
        return []
    if isinstance(value, list):
        items = schema.get("items")
        return [p for i, item in enumerate(value) for p in _unknown(item, items, (*path, i))]
    if not isinstance(value, dict):
        return []
    properties = schema.get("properties")
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        return [p for key, item in value.items() for p in _unknown(item, additional, (*path, key))]
    if not isinstance(properties, dict):
        # No declared fields: typed objects keep nothing; untyped nodes are not structural, so not judged here.
        declared_object = schema.get("type") == "object" and not schema.get(_PRESERVE) and additional is None
        return [(*path, key) for key in value] if declared_object else []
    found: list[FieldPath] = []
    for key, item in value.items():
        if key in properties:
            found.extend(_unknown(item, properties[key], (*path, key)))
        elif not schema.get(_PRESERVE) and additional is not True:
            found.append((*path, key))
    return found
