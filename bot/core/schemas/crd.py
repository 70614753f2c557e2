"""CustomResourceDefinitions: read their served versions and turn openAPIV3Schema into JSON schema."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from bot.core.findings import Finding, Severity, Source
from bot.core.jsonfields import mapping_at, str_at
from bot.core.resource import FieldPath, Resource, format_path
from bot.core.schemas.derive import add_int_ranges, types_of, walk_schemas
from bot.core.schemas.engine import JSON_SCHEMA_2020_12
from bot.core.schemas.messages import RULE_INVALID_CRD

CRD_API_VERSIONS = ("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1")

# The root of every custom resource: Kubernetes owns these fields, whatever the CRD schema says.
_ROOT_FIELDS = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
}


@dataclass(frozen=True)
class CrdVersion:
    """One version of a custom resource as a CRD declares it."""

    group: str
    version: str
    kind: str
    served: bool
    crd_name: str
    openapi_schema: dict[str, Any] | None  # None: the CRD gives no schema (v1beta1 allows that)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


def is_crd(resource: Resource) -> bool:
    return resource.kind == "CustomResourceDefinition" and resource.api_version in CRD_API_VERSIONS


def _invalid(resource: Resource, path: FieldPath, text: str) -> Finding:
    line, column = resource.position(path)
    return Finding(
        rule=RULE_INVALID_CRD,
        severity=Severity.ERROR,
        message=f"CustomResourceDefinition {resource.name or '(unnamed)'}: {text}",
        file=resource.file,
        line=line,
        column=column,
        source=Source.SCHEMA,
        resource=resource.ref,
        path=format_path(path),
        remediation="Fix the CustomResourceDefinition so its custom resources can be checked.",
    )


def read_crd(resource: Resource) -> tuple[list[CrdVersion], list[Finding]]:
    """The versions a CRD declares, and findings for what makes it unusable."""
    spec = resource.obj.get("spec")
    if not isinstance(spec, dict):
        return [], [_invalid(resource, ("spec",), "spec must be a mapping with group, names and versions")]
    group, kind = str_at(spec, "group"), str_at(mapping_at(spec, "names"), "kind")
    problems = []
    if not group:
        problems.append(_invalid(resource, ("spec", "group"), 'missing "spec.group"'))
    if not kind:
        problems.append(_invalid(resource, ("spec", "names"), 'missing "spec.names.kind"'))
    if problems:
        return [], problems
    versions = spec.get("versions")
    shared_schema = _openapi_at(spec, ("validation", "openAPIV3Schema"))  # v1beta1 only
    if not versions and isinstance(spec.get("version"), str):  # v1beta1 single-version form
        versions = [{"name": spec["version"], "served": True}]
    if not isinstance(versions, list) or not versions:
        return [], [_invalid(resource, ("spec", "versions"), 'missing "spec.versions"')]
    found, findings = [], []
    v1 = resource.api_version == "apiextensions.k8s.io/v1"
    for index, entry in enumerate(versions):
        where: FieldPath = ("spec", "versions", index)
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            findings.append(_invalid(resource, where, f"spec.versions[{index}] has no name"))
            continue
        schema = _openapi_at(entry, ("schema", "openAPIV3Schema")) or shared_schema
        if schema is not None and _uses_ref(schema):
            findings.append(
                _invalid(
                    resource,
                    (*where, "schema", "openAPIV3Schema"),
                    f"the schema of version {entry['name']} uses $ref, which CustomResourceDefinitions do not allow",
                )
            )
            continue
        if v1 and schema is None:
            findings.append(
                _invalid(
                    resource,
                    where,
                    f'version {entry["name"]} has no "schema.openAPIV3Schema" (required in apiextensions.k8s.io/v1)',
                )
            )
        found.append(
            CrdVersion(
                group, entry["name"], kind, entry.get("served", True) is not False, resource.name, schema
            )
        )
    return found, findings


def _uses_ref(schema: dict[str, Any]) -> bool:
    found: list[bool] = []
    walk_schemas(schema, lambda node: found.append("$ref" in node))
    return any(found)


def _openapi_at(container: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = container
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _only_type_branches(branches: Any) -> bool:
    return isinstance(branches, list) and all(isinstance(b, dict) and set(b) <= {"type"} for b in branches)


def _convert_node(schema: dict[str, Any]) -> None:
    if schema.get("x-kubernetes-int-or-string") is True:
        schema["type"] = ["integer", "string"]
        for key in ("anyOf", "oneOf"):
            if _only_type_branches(schema.get(key)):
                del schema[key]
    if schema.get("x-kubernetes-embedded-resource") is True:
        schema.setdefault("type", "object")
        properties = schema.setdefault("properties", {})
        if isinstance(properties, dict):
            for name, field_schema in _ROOT_FIELDS.items():
                properties.setdefault(name, dict(field_schema))
    if schema.get("nullable") is True:
        declared = types_of(schema)
        if declared and "null" not in declared:
            schema["type"] = [*declared, "null"]
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
    # OpenAPI 3.0 (draft 4) writes exclusive bounds as booleans next to minimum/maximum.
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(exclusive), bool):
            if schema.pop(exclusive) and bound in schema:
                schema[exclusive] = schema.pop(bound)
    # The API server prunes fields a structural schema does not declare; we report them instead.
    if (
        isinstance(schema.get("properties"), dict)
        and "additionalProperties" not in schema
        and schema.get("x-kubernetes-preserve-unknown-fields") is not True
    ):
        schema["additionalProperties"] = False


def to_json_schema(openapi_schema: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON schema (2020-12) for a custom resource from its CRD's openAPIV3Schema.

    Unknown fields are always forbidden where the structural schema lists properties (the
    caller decides whether that is a warning or an error); ``apiVersion``, ``kind`` and
    ``metadata`` are always allowed at the root.
    """
    schema: dict[str, Any] = (
        copy.deepcopy(openapi_schema) if openapi_schema else {"x-kubernetes-preserve-unknown-fields": True}
    )
    walk_schemas(schema, _convert_node)
    add_int_ranges(schema)
    schema["type"] = "object"
    properties = schema.setdefault("properties", {})
    if isinstance(properties, dict):
        properties.update(copy.deepcopy(_ROOT_FIELDS))
    schema["$schema"] = JSON_SCHEMA_2020_12
    return schema
