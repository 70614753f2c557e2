"""CRD schema catalogs: kubeconform ``-schema-location`` templates, looked up through a `SchemaSource`.

The core never touches the network or the disk: a front door passes a `SchemaSource`
(bot.backends.schema_catalog) that turns an expanded location into bytes. Template
expansion follows kubeconform's ``pkg/registry`` (``schemaPath`` and ``New``) exactly,
so existing catalogs such as datreeio/CRDs-catalog work unchanged.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from bot.core.findings import Finding, Severity, Source
from bot.core.resource import Resource, finding_at
from bot.core.schemas.derive import partial_copy, walk_schemas
from bot.core.schemas.engine import JSON_SCHEMA_2020_12, NO_DOCUMENTS, CompiledSchema, compile_schema
from bot.errors import ConfigError, GitOpsBotError

RULE_CATALOG_UNAVAILABLE = "schema/catalog-unavailable"

# kubeconform's registry.New: "default" is its upstream Kubernetes schemas. Here those are the
# embedded built-in schemas, always consulted first, so "default" never fetches anything.
DEFAULT_LOCATION = "default"
KUBECONFORM_DEFAULT_TEMPLATE = (
    "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/"
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
)
# Appended by kubeconform to a location that does not end in "json" (a kubernetes-json-schema mirror).
MIRROR_SUFFIX = "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"

# A hostile PR may name any kind: only names that cannot walk out of a directory or URL path are looked up.
_SAFE_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")
_SAFE_GROUP = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
_SAFE_VERSION = re.compile(r"^[A-Za-z0-9]{1,63}$")
_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
_FIELD = re.compile(r"^\.([A-Za-z]+)$")
FIELDS = (
    "NormalizedKubernetesVersion",
    "StrictSuffix",
    "ResourceKind",
    "ResourceAPIVersion",
    "Group",
    "KindSuffix",
)
# One evaluation fetches at most this many distinct locations: a PR naming thousands of made-up
# kinds must not turn the bot into a request generator against the operator's catalog host.
MAX_FETCHES_PER_EVALUATION = 256


class SchemaFetchError(GitOpsBotError):
    """A location could not be read (unreachable, timeout, too large, HTTP error): never "not found"."""


class SchemaSource(Protocol):
    """How the front door reads an expanded schema location (an http(s) URL or a local path)."""

    def fetch(self, location: str) -> bytes | None:
        """The bytes at ``location``; None when nothing is there (HTTP 404, no such file).

        Raises `SchemaFetchError` with a short reason for anything else, so an unreachable
        catalog is reported, never taken for a missing schema.
        """
        ...


def full_template(location: str) -> str:
    """The template kubeconform's ``registry.New`` would use for a ``-schema-location`` value."""
    if location == DEFAULT_LOCATION:
        return KUBECONFORM_DEFAULT_TEMPLATE
    if not location.endswith("json"):
        return location + MIRROR_SUFFIX
    return location


def _template_values(kind: str, api_version: str, kubernetes_version: str, strict: bool) -> dict[str, str]:
    """kubeconform ``schemaPath``: the kind is lower-cased, the group and version are not."""
    normalized = kubernetes_version if kubernetes_version == "master" else "v" + kubernetes_version
    group_parts = api_version.split("/")
    version_parts = group_parts[0].split(".")
    kind_suffix = "-" + version_parts[0].lower()
    if len(group_parts) > 1:
        kind_suffix += "-" + group_parts[1].lower()
    return {
        "NormalizedKubernetesVersion": normalized,
        "StrictSuffix": "-strict" if strict else "",
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": group_parts[-1],
        "Group": group_parts[0],  # "v1" for the core group, as kubeconform has it
        "KindSuffix": kind_suffix,
    }


def expand(template: str, kind: str, api_version: str, kubernetes_version: str, strict: bool) -> str:
    """Go text/template's field actions (``{{ .Group }}``, ``{{- .X -}}``) filled in; anything else is a ConfigError."""
    values = _template_values(kind, api_version, kubernetes_version, strict)
    out: list[str] = []
    pos = 0
    for match in _ACTION.finditer(template):
        text = template[pos : match.start()]
        out.append(text.rstrip() if match.group(1) else text)
        field_match = _FIELD.match(match.group(2))
        if not field_match:
            raise ConfigError(
                f"schema location {template!r}: unsupported template action {{{{{match.group(2)}}}}}; "
                f"only fields are supported: {', '.join('.' + f for f in FIELDS)}"
            )
        if field_match.group(1) not in values:
            raise ConfigError(
                f"schema location {template!r}: unknown field .{field_match.group(1)} "
                f"(known: {', '.join('.' + f for f in FIELDS)})"
            )
        out.append(values[field_match.group(1)])
        pos = match.end()
        if match.group(3):
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip())
    tail = template[pos:]
    if "{{" in tail or "}}" in tail:
        raise ConfigError(f"schema location {template!r}: unbalanced {{{{ }}}} in the template")
    out.append(tail)
    return "".join(out)


def check_location(location: str) -> None:
    """Raise ConfigError when kubeconform would refuse ``location`` (it test-expands every template)."""
    if not location.strip():
        raise ConfigError("schema location is empty")
    expand(full_template(location), "Deployment", "v1", "master", True)


def is_safe_identity(api_version: str, kind: str) -> bool:
    """True when group, version and kind are plain names that can go into a path or URL as they are."""
    group, _, version = api_version.rpartition("/")
    return bool(
        _SAFE_KIND.match(kind) and _SAFE_VERSION.match(version) and (not group or _SAFE_GROUP.match(group))
    )


@dataclass(frozen=True)
class CatalogAccess:
    """What the front door allows: its locations, and whether a repository may add its own.

    The CLI passes its ``--schema-location`` flags with ``repository_may_add=True`` (the config's
    ``schemaLocations`` are appended). The App passes the operator's list with ``False``: a
    repository's ``schemaLocations`` then only selects among them, and anything else is a finding.
    """

    source: SchemaSource
    locations: tuple[str, ...] = ()
    repository_may_add: bool = True


@dataclass
class CatalogLookup:
    """The outcome for one group/version/kind: a compiled schema, or why there is none."""

    schema: CompiledSchema | None = None
    location: str = ""  # where the schema (or the failure) came from
    unavailable: str = ""  # non-empty: a location could not be read or gave an unusable schema


@dataclass
class SchemaCatalog:
    """The locations of one evaluation, in order, with what was already fetched.

    kubeconform's rules: the first location holding a schema wins; "not found" moves on;
    an unreadable location stops the search (reported); a schema that does not parse or
    compile moves on but is still reported when no later location has one.
    """

    locations: tuple[str, ...]
    source: SchemaSource
    _fetched: dict[str, bytes | None | SchemaFetchError] = field(default_factory=dict, repr=False)
    _lookups: dict[tuple[Any, ...], CatalogLookup] = field(default_factory=dict, repr=False)

    def lookup(
        self, api_version: str, kind: str, *, patch: bool, kubernetes_version: str, strict: bool, engine: str
    ) -> CatalogLookup:
        key = (api_version, kind, patch, kubernetes_version, strict, engine)
        if key not in self._lookups:
            self._lookups[key] = self._search(api_version, kind, patch, f"{kubernetes_version}.0", strict, engine)
        return self._lookups[key]

    def _search(
        self, api_version: str, kind: str, patch: bool, version: str, strict: bool, engine: str
    ) -> CatalogLookup:
        if not is_safe_identity(api_version, kind):
            return CatalogLookup()
        problems: list[tuple[str, str]] = []
        for location in self.locations:
            if location == DEFAULT_LOCATION:
                continue  # the embedded built-in schemas were consulted before the catalogs
            where = expand(full_template(location), kind, api_version, version, strict)
            got = self._fetch(where)
            if isinstance(got, SchemaFetchError):
                return CatalogLookup(location=where, unavailable=f"could not be read: {got}")
            if got is None:
                continue
            try:
                schema = _parse(got, kind)
                if schema is None:
                    continue  # a schema for another kind (kubeconform checks the kind enum too)
                return CatalogLookup(_compile(_text_key(schema), patch, engine), where)
            except ValueError as err:
                problems.append((where, str(err)))
        if problems:
            where, problem = problems[0]
            return CatalogLookup(location=where, unavailable=f"holds no usable schema: {problem}")
        return CatalogLookup()

    def _fetch(self, where: str) -> bytes | None | SchemaFetchError:
        if where not in self._fetched:
            if len(self._fetched) >= MAX_FETCHES_PER_EVALUATION:
                return SchemaFetchError(
                    f"more than {MAX_FETCHES_PER_EVALUATION} distinct schema locations in one evaluation"
                )
            try:
                self._fetched[where] = self.source.fetch(where)
            except SchemaFetchError as err:
                self._fetched[where] = err
        return self._fetched[where]

    def unavailable_finding(self, resource: Resource, lookup: CatalogLookup) -> Finding:
        """An error at the resource's kind: its schema location failed, so it was not checked."""
        text = (
            f"no schema for {resource.api_version} {resource.kind}: the schema location {lookup.location} "
            f"{lookup.unavailable}; this {resource.kind} was not checked"
        )
        finding = finding_at(
            resource,
            ("kind",),
            rule=RULE_CATALOG_UNAVAILABLE,
            severity=Severity.ERROR,
            message=text,
            source=Source.SCHEMA,
        )
        return finding.with_(
            remediation=(
                "Make the schema location reachable (or fix the schema it serves), or add the kind's "
                "CustomResourceDefinition to the repository; then re-run the check."
            )
        )


def _parse(data: bytes, kind: str) -> dict[str, Any] | None:
    try:
        schema = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"not JSON ({err})") from None
    if not isinstance(schema, dict):
        raise ValueError("not a JSON schema object")
    kind_schema = (schema.get("properties") or {}).get("kind") if isinstance(schema.get("properties"), dict) else None
    enum = kind_schema.get("enum") if isinstance(kind_schema, dict) else None
    if isinstance(enum, list) and enum and not any(str(e).lower() == kind.lower() for e in enum):
        return None
    return schema


def _text_key(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


def _draft4_node(node: dict[str, Any]) -> None:
    # kubeconform compiles catalog schemas as draft 4 by default: boolean exclusive bounds and
    # array-form ``items`` are rewritten to their 2020-12 spelling so both engines agree.
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(exclusive), bool):
            if node.pop(exclusive) and bound in node:
                node[exclusive] = node.pop(bound)
    if isinstance(node.get("items"), list):
        node["prefixItems"] = node.pop("items")


@lru_cache(maxsize=256)
def _compile(schema_json: str, patch: bool, engine: str) -> CompiledSchema:
    """Keyed by the schema's text, so a catalog schema compiles once per process however often it is fetched."""
    schema = copy.deepcopy(json.loads(schema_json))
    declared = str(schema.get("$schema", ""))
    if not declared or "draft-04" in declared or "draft-06" in declared or "draft-07" in declared:
        walk_schemas(schema, _draft4_node)
        schema["$schema"] = JSON_SCHEMA_2020_12
    schema.pop("id", None)
    return compile_schema(partial_copy(schema, allow_null=True) if patch else schema, NO_DOCUMENTS, engine)


def select_locations(
    access: CatalogAccess | None,
    repository: tuple[str, ...] | None,
    config_file: str,
    lines: Sequence[int] = (),
) -> tuple[tuple[str, ...], list[Finding]]:
    """The locations one evaluation uses, and config findings for those it may not.

    ``repository``: the trusted config's ``schemaLocations`` (None when the key is absent).
    """
    findings: list[Finding] = []
    if access is None:
        if repository:
            findings.append(
                _config_finding(
                    "schemaLocations is set, but this front door cannot read schema locations; "
                    "the custom resources they describe were not checked",
                    config_file,
                    lines[0] if lines else 0,
                )
            )
        return (), findings
    def line(index: int) -> int:
        return lines[index] if index < len(lines) else 0

    candidates: list[tuple[str, int]] = []
    if access.repository_may_add:
        candidates = [(location, 0) for location in access.locations]
        candidates += [(location, line(i)) for i, location in enumerate(repository or ())]
    elif repository is None:
        candidates = [(location, 0) for location in access.locations]
    else:
        for index, location in enumerate(repository):
            if location in access.locations or location == DEFAULT_LOCATION:
                candidates.append((location, line(index)))
                continue
            findings.append(
                _config_finding(
                    f"schemaLocations[{index}]: {location!r} is not one of the schema locations this App's "
                    f"operator allows ({', '.join(access.locations) or 'none are configured'}); it was not used",
                    config_file,
                    line(index),
                )
            )
    chosen: list[str] = []
    for location, at in candidates:
        try:
            check_location(location)
        except ConfigError as err:
            findings.append(_config_finding(str(err), config_file, at))
            continue
        if location not in chosen:
            chosen.append(location)
    return tuple(chosen), findings


def _config_finding(message: str, config_file: str, line: int) -> Finding:
    return Finding(
        rule="config/invalid",
        severity=Severity.ERROR,
        message=message,
        file=config_file,
        line=line,
        source=Source.CONFIG,
        remediation="Fix schemaLocations in .gitops-bot.yaml (README: Schema locations).",
    )

