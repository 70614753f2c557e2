"""Read ConstraintTemplate and constraint objects into plain values, or say why Gatekeeper would reject them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema

from bot.core.findings import Severity
from bot.core.gatekeeper.constraint_schema import (
    name_problem,
    unknown_spec_fields,
    unknown_top_level_fields,
    version_problem,
)
from bot.core.gatekeeper.data_refs import data_ref_problem
from bot.core.gatekeeper.match import match_problems
from bot.core.gatekeeper.rego_version import grammar_problem
from bot.core.rego.engine import package_of
from bot.core.resource import FieldPath, Resource

TEMPLATES_GROUP = "templates.gatekeeper.sh"
CONSTRAINTS_GROUP = "constraints.gatekeeper.sh"
TARGET_NAME = "admission.k8s.gatekeeper.sh"
# Enforcement points whose verdict a pull request check stands for: the admission webhook and gator.
ENFORCEMENT_POINTS = ("*", "validation.gatekeeper.sh", "gator.gatekeeper.sh")
ACTION_SEVERITY = {"deny": Severity.ERROR, "warn": Severity.WARNING, "dryrun": Severity.NOTICE}


class InvalidObject(Exception):
    """A template or constraint Gatekeeper would refuse; ``path`` points at the offending field."""

    def __init__(self, message: str, path: FieldPath = ()):
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class TemplateCode:
    """The Rego of one template: the main module, its libraries and the Rego version they are written in."""

    rego: str
    libs: tuple[str, ...]
    version: str  # "v0" (Gatekeeper's default) or "v1"
    path: FieldPath  # where `rego` is written in the template, for line numbers

    @property
    def package(self) -> str:
        return package_of(self.rego)


@dataclass(frozen=True)
class Template:
    name: str
    kind: str  # the constraint kind it defines (spec.crd.spec.names.kind)
    code: TemplateCode | None  # None: no Rego (a CEL-only template)
    parameters_schema: dict[str, Any] | None
    resource: Resource
    legacy_schema: bool = True  # unknown parameters are kept (v1beta1's default), not rejected

    @property
    def description(self) -> str:
        """The template's ``description`` annotation (what complying means), one line."""
        text = self.resource.annotations.get("description")
        return " ".join(text.split()) if isinstance(text, str) else ""


@dataclass(frozen=True)
class Constraint:
    kind: str
    name: str
    match: dict[str, Any]
    parameters: Any  # spec.parameters; {} when absent, so `object.get(input.parameters, ...)` works as in Gatekeeper
    severity: Severity | None  # None: no enforcement point of ours applies (audit-only)
    resource: Resource

    @property
    def rule(self) -> str:
        """The finding rule id: ``gatekeeper/<constraint kind>/<constraint name>``."""
        return f"gatekeeper/{self.kind}/{self.name}"


def group_of(obj: dict[str, Any]) -> str:
    api_version = obj.get("apiVersion")
    return api_version.rsplit("/", 1)[0] if isinstance(api_version, str) and "/" in api_version else ""


def is_template(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == "ConstraintTemplate" and group_of(obj) == TEMPLATES_GROUP


def is_constraint(obj: Any) -> bool:
    return isinstance(obj, dict) and group_of(obj) == CONSTRAINTS_GROUP


def read_template(resource: Resource) -> Template:
    """The template in ``resource``; raises InvalidObject when Gatekeeper would not accept it."""
    obj = resource.obj
    spec = _mapping(obj.get("spec"), ("spec",))
    crd_spec = _mapping(_mapping(spec.get("crd"), ("spec", "crd")).get("spec"), ("spec", "crd", "spec"))
    kind = _mapping(crd_spec.get("names"), ("spec", "crd", "spec", "names")).get("kind")
    names_path: FieldPath = ("spec", "crd", "spec", "names", "kind")
    if not isinstance(kind, str) or not kind:
        raise InvalidObject("spec.crd.spec.names.kind is required", names_path)
    name = resource.name
    if name != kind.lower():
        raise InvalidObject(
            f"the template's name {name!r} must be the lowercase of its kind {kind!r} ({kind.lower()!r})",
            ("metadata", "name"),
        )
    targets = spec.get("targets")
    if not isinstance(targets, list) or len(targets) != 1 or not isinstance(targets[0], dict):
        raise InvalidObject("spec.targets must list exactly one target", ("spec", "targets"))
    target = targets[0]
    if target.get("target") != TARGET_NAME:
        raise InvalidObject(f"the target must be {TARGET_NAME!r}, not {target.get('target')!r}", ("spec", "targets", 0))
    validation = _mapping(crd_spec.get("validation"), ("spec", "crd", "spec", "validation"))
    schema = validation.get("openAPIV3Schema")
    if schema is not None and not isinstance(schema, dict):
        raise InvalidObject("openAPIV3Schema must be an object", ("spec", "crd", "spec", "validation"))
    legacy = validation.get("legacySchema")
    if not isinstance(legacy, bool):
        legacy = not str(obj.get("apiVersion", "")).endswith("/v1")  # templates.gatekeeper.sh/v1 defaults to false
    return Template(name, kind, _template_code(target), schema, resource, legacy)


def _template_code(target: dict[str, Any]) -> TemplateCode | None:
    base: FieldPath = ("spec", "targets", 0)
    for i, entry in enumerate(target.get("code") or []):
        if isinstance(entry, dict) and entry.get("engine") == "Rego":
            source = _mapping(entry.get("source"), (*base, "code", i, "source"))
            version = "v1" if source.get("version") == "v1" else "v0"
            return _code(source.get("rego"), source.get("libs"), version, (*base, "code", i, "source", "rego"))
    if target.get("rego") is not None:
        return _code(target.get("rego"), target.get("libs"), "v0", (*base, "rego"))
    return None


def _code(rego: Any, libs: Any, version: str, path: FieldPath) -> TemplateCode:
    if not isinstance(rego, str) or not rego.strip():
        raise InvalidObject("the Rego source is empty", path)
    if not package_of(rego):
        raise InvalidObject("the Rego source declares no package", path)
    if libs is not None and (not isinstance(libs, list) or not all(isinstance(x, str) for x in libs)):
        raise InvalidObject("libs must be a list of Rego modules", (*path[:-1], "libs"))
    for i, lib in enumerate(libs or []):
        package = package_of(lib)
        if package == "lib":
            message = "package lib must be a sub-package such as lib.helpers (Gatekeeper refuses lib itself)"
            raise InvalidObject(f"libs[{i}]: {message}", (*path[:-1], "libs", i))
        if not package.startswith("lib."):
            raise InvalidObject(f"libs[{i}]: package {package or '(none)'} must be lib or start with lib.", (*path[:-1], "libs", i))
        problem = grammar_problem(lib, version) or data_ref_problem(lib)
        if problem:
            raise InvalidObject(f"libs[{i}]: {problem}", (*path[:-1], "libs", i))
    problem = grammar_problem(rego, version) or data_ref_problem(rego)
    if problem:
        raise InvalidObject(problem, path)
    return TemplateCode(rego, tuple(libs or ()), version, path)


def read_constraint(resource: Resource, template: Template) -> Constraint:
    """The constraint in ``resource`` (an instance of ``template``); raises InvalidObject when Gatekeeper would reject it."""
    obj = resource.obj
    problem = name_problem(resource.name)
    if problem:
        raise InvalidObject(problem, ("metadata", "name"))
    problem = version_problem(obj.get("apiVersion"))
    if problem:
        raise InvalidObject(problem, ("apiVersion",))
    spec = _mapping(obj.get("spec"), ("spec",))
    problems = match_problems(spec.get("match"))
    if problems:
        raise InvalidObject("; ".join(problems), ("spec", "match"))
    parameters = spec.get("parameters")
    if template.parameters_schema and parameters is not None:
        _check_parameters(parameters, template.parameters_schema)
    unknown = unknown_top_level_fields(obj) + unknown_spec_fields(spec, template.parameters_schema, template.legacy_schema)
    if unknown:
        shown = ", ".join(".".join(str(p) for p in path) for path in unknown[:5])
        raise InvalidObject(f"unknown fields: {shown} (the constraint's schema, built from the template, does not declare them)", unknown[0])
    return Constraint(
        kind=resource.kind,
        name=resource.name,
        match=spec.get("match") or {},
        parameters={} if parameters is None else parameters,
        severity=_severity(spec),
        resource=resource,
    )


def _check_parameters(parameters: Any, schema: dict[str, Any]) -> None:
    """Gatekeeper validates parameters with the template's schema before it accepts a constraint."""
    validator = jsonschema.Draft4Validator(_json_schema(schema))
    errors = sorted(validator.iter_errors(parameters), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.absolute_path)
        raise InvalidObject(
            f"spec.parameters{'.' + where if where else ''}: {error.message}",
            ("spec", "parameters", *error.absolute_path),
        )


def _json_schema(schema: Any) -> Any:
    """OpenAPI v3 (Kubernetes flavour) to JSON Schema draft 4: drop the x-kubernetes-* extensions."""
    if isinstance(schema, dict):
        return {k: _json_schema(v) for k, v in schema.items() if not str(k).startswith("x-kubernetes-")}
    if isinstance(schema, list):
        return [_json_schema(v) for v in schema]
    return schema


def _severity(spec: dict[str, Any]) -> Severity | None:
    action = spec.get("enforcementAction") or "deny"
    if action in ACTION_SEVERITY:
        return ACTION_SEVERITY[action]
    if action != "scoped":
        raise InvalidObject(
            f"enforcementAction {action!r} is not one of deny, warn, dryrun, scoped", ("spec", "enforcementAction")
        )
    severities = []
    for i, scoped in enumerate(spec.get("scopedEnforcementActions") or []):
        scoped = scoped if isinstance(scoped, dict) else {}
        scoped_action = scoped.get("action")
        if scoped_action not in ACTION_SEVERITY:
            raise InvalidObject(
                f"scopedEnforcementActions[{i}].action {scoped_action!r} is not one of deny, warn, dryrun",
                ("spec", "scopedEnforcementActions", i),
            )
        points = [p.get("name") for p in scoped.get("enforcementPoints") or [] if isinstance(p, dict)]
        if any(p in ENFORCEMENT_POINTS for p in points):
            severities.append(ACTION_SEVERITY[scoped_action])
    return max(severities) if severities else None


def _mapping(value: Any, path: FieldPath) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidObject(f"{'.'.join(str(p) for p in path)} must be an object", path)
    return value
