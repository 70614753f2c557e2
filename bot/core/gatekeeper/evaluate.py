"""Judge resources with the ConstraintTemplates and constraints found among them (and configured ones), like ``gator test``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.core.findings import Finding, Severity, Source
from bot.core.gatekeeper.compiled import CompiledTemplate, compile_template, rego_line
from bot.core.gatekeeper.expansion import (
    EXPANSION_GROUP,
    ExpansionTemplate,
    Resultant,
    expand,
    is_expansion_template,
    read_expansion_template,
)
from bot.core.gatekeeper.match import GENERATED, ORIGINAL, MatchError, matches
from bot.core.gatekeeper.objects import (
    ACTION_SEVERITY,
    CONSTRAINTS_GROUP,
    TEMPLATES_GROUP,
    Constraint,
    InvalidObject,
    Template,
    is_constraint,
    is_template,
    read_constraint,
    read_template,
)
from bot.core.gatekeeper.review import build_inventory, make_review, namespaces_by_name
from bot.core.rego.engine import DEFAULT_ENGINE
from bot.core.resource import FieldPath, Resource
from bot.errors import PolicyError

T = TypeVar("T")
RULE_INVALID_TEMPLATE = "gatekeeper/invalid-template"
RULE_INVALID_CONSTRAINT = "gatekeeper/invalid-constraint"
RULE_INVALID_EXPANSION = "gatekeeper/invalid-expansion-template"
RULE_UNSUPPORTED_TEMPLATE = "gatekeeper/unsupported-template"
RULE_MATCH_ERROR = "gatekeeper/match-error"
RULE_EVALUATION_ERROR = "gatekeeper/evaluation-error"
RULE_IGNORED_RESULT = "gatekeeper/ignored-violation"
UNKNOWN_KIND_RULE = "schema/unknown-kind"


@dataclass
class GatekeeperResult:
    findings: list[Finding] = field(default_factory=list)
    template_kinds: set[str] = field(default_factory=set)  # constraint kinds some template defines

    def explains_unknown_kind(self, finding: Finding) -> bool:
        """A ``schema/unknown-kind`` notice about a template, or a constraint whose template is known."""
        ref = finding.resource
        if finding.rule != UNKNOWN_KIND_RULE or ref is None:
            return False
        if (ref.group, ref.kind) in ((TEMPLATES_GROUP, "ConstraintTemplate"), (EXPANSION_GROUP, "ExpansionTemplate")):
            return True
        return ref.group == CONSTRAINTS_GROUP and ref.kind in self.template_kinds


def evaluate_gatekeeper(
    resources: Sequence[Resource],
    *,
    policy_resources: Sequence[Resource] = (),
    engine: str = DEFAULT_ENGINE,
) -> GatekeeperResult:
    """Findings of every constraint for every resource it matches, plus one per broken template or constraint.

    Templates and constraints come from ``policy_resources`` (configured, trusted) first, then from
    ``resources``; the first definition of a kind or constraint wins. Kustomize patches are skipped.
    """
    result = GatekeeperResult()
    everything = [r for r in (*policy_resources, *resources) if not r.is_patch and isinstance(r.obj, dict)]
    templates, compiled = _compiled(_templates(everything, result), engine, result)
    constraints = _constraints(everything, templates, compiled, result)
    expansions = _expansion_templates(everything, result)
    targets = [r for r in resources if not r.is_patch and isinstance(r.obj, dict)]
    if not constraints or not targets:
        return result
    namespaces = namespaces_by_name(r.obj for r in everything)
    inventory = build_inventory(r.obj for r in targets)
    generated = {id(r): expand(r.obj, expansions) for r in targets} if expansions else {}
    by_kind: dict[str, list[Constraint]] = {}
    for constraint in constraints:
        by_kind.setdefault(constraint.kind, []).append(constraint)
    for kind, group in by_kind.items():
        template = compiled[kind]
        template.set_inventory(inventory)
        for constraint in group:
            for resource in targets:
                found = _judge(template, constraint, resource, namespaces)
                for resultant in generated.get(id(resource), ()):
                    found += _judge(template, constraint, resource, namespaces, resultant)
                fix = templates[kind].description
                result.findings.extend(f.with_(remediation=fix) if f.rule == constraint.rule else f for f in found)
    return result


def _read_objects(
    resources: Sequence[Resource], is_kind: Callable[[Any], bool], read: Callable[[Resource], T], rule: str, result: GatekeeperResult
) -> list[T]:
    """Every object of one kind read with ``read``; one that Gatekeeper would refuse is a finding instead."""
    objects: list[T] = []
    for resource in resources:
        if not is_kind(resource.obj):
            continue
        try:
            objects.append(read(resource))
        except InvalidObject as e:
            result.findings.append(_object_finding(resource, rule, Severity.ERROR, str(e), e.path))
    return objects


def _expansion_templates(resources: Sequence[Resource], result: GatekeeperResult) -> list[ExpansionTemplate]:
    by_name: dict[str, ExpansionTemplate] = {}
    for template in _read_objects(resources, is_expansion_template, read_expansion_template, RULE_INVALID_EXPANSION, result):
        by_name.setdefault(template.name, template)  # the first definition of a name wins
    return list(by_name.values())


def _templates(resources: Sequence[Resource], result: GatekeeperResult) -> list[Template]:
    templates = _read_objects(resources, is_template, read_template, RULE_INVALID_TEMPLATE, result)
    result.template_kinds.update(t.kind for t in templates)
    return templates


def _compiled(
    templates: Sequence[Template], engine: str, result: GatekeeperResult
) -> tuple[dict[str, Template], dict[str, CompiledTemplate]]:
    """The template that defines each kind (the first one) and its compiled form.

    Later definitions of a kind (a change's copy of a trusted template) are compiled too, so
    their mistakes are reported, but never judge anything.
    """
    chosen: dict[str, Template] = {}
    compiled: dict[str, CompiledTemplate] = {}
    for template in templates:
        first = template.kind not in chosen
        chosen.setdefault(template.kind, template)
        if template.code is None:
            message = "only Rego templates are evaluated; this one has no `engine: Rego` code, so its constraints are skipped"
            result.findings.append(
                _object_finding(template.resource, RULE_UNSUPPORTED_TEMPLATE, Severity.NOTICE, message, ("spec", "targets"))
            )
            continue
        try:
            ready = compile_template(template, engine)
        except InvalidObject as e:
            finding = _object_finding(template.resource, RULE_INVALID_TEMPLATE, Severity.ERROR, str(e), e.path)
            result.findings.append(finding.with_(line=rego_line(template, str(e))))
            continue
        if first:
            compiled[template.kind] = ready
    return chosen, compiled


def _constraints(
    resources: Sequence[Resource],
    templates: dict[str, Template],
    compiled: dict[str, CompiledTemplate],
    result: GatekeeperResult,
) -> list[Constraint]:
    constraints: dict[tuple[str, str], Constraint] = {}
    for resource in resources:
        if not is_constraint(resource.obj) or resource.kind not in compiled:
            continue  # without a usable template the schema stage reports the unknown kind
        try:
            constraint = read_constraint(resource, templates[resource.kind])
        except InvalidObject as e:
            result.findings.append(_object_finding(resource, RULE_INVALID_CONSTRAINT, Severity.ERROR, str(e), e.path))
            continue
        if constraint.severity is not None:
            constraints.setdefault((constraint.kind, constraint.name), constraint)
    return list(constraints.values())


def _judge(
    template: CompiledTemplate,
    constraint: Constraint,
    resource: Resource,
    namespaces: dict[str, Any],
    resultant: Resultant | None = None,
) -> list[Finding]:
    """Findings of one constraint for ``resource``, or for an object it generates (reported on ``resource``)."""
    obj, source = (resultant.obj, GENERATED) if resultant else (resource.obj, ORIGINAL)
    namespace = namespaces.get(resource.namespace) if resource.namespace else None
    try:
        if not matches(constraint.match, obj, namespace, source=source):
            return []
    except MatchError as e:
        message = (
            f"constraint {constraint.kind}/{constraint.name} cannot tell whether it applies: {e}; "
            "add the Namespace to the repository (Gatekeeper fails such reviews)"
        )
        return [_resource_finding(resource, RULE_MATCH_ERROR, constraint.severity or Severity.ERROR, message)]
    try:
        violations, ignored = template.results(make_review(obj), constraint.parameters)
    except PolicyError as e:
        message = f"constraint {constraint.kind}/{constraint.name} could not be evaluated: {e}"
        # As blocking as the constraint itself: a broken dryrun constraint never blocks a merge.
        return [_resource_finding(resource, RULE_EVALUATION_ERROR, constraint.severity or Severity.ERROR, message)]
    notices = [_ignored_notice(resource, constraint, ignored)] if ignored else []
    severity = constraint.severity or Severity.ERROR
    if resultant is None:
        return notices + [_resource_finding(resource, constraint.rule, severity, _message(v)) for v in violations]
    # The template's enforcementAction, when set, overrides the constraint's for what it derives.
    severity = ACTION_SEVERITY.get(resultant.template.enforcement_action, severity)
    return notices + [_resource_finding(resource, constraint.rule, severity, resultant.message(_message(v))) for v in violations]


def _ignored_notice(resource: Resource, constraint: Constraint, ignored: list[Any]) -> Finding:
    """Results Gatekeeper drops (no ``msg``) block nothing there, so only a notice here: the template needs fixing."""
    example = json.dumps(ignored[0], sort_keys=True)[:120]
    message = (
        f"constraint {constraint.kind}/{constraint.name}: the template returned {len(ignored)} violation result(s) "
        f'without a msg (e.g. {example}); Gatekeeper ignores them, so write violation[{{"msg": msg}}]'
    )
    return _resource_finding(resource, RULE_IGNORED_RESULT, Severity.NOTICE, message)


def _message(violation: dict[str, Any]) -> str:
    msg = violation.get("msg")
    return msg if isinstance(msg, str) else f"violation without a string msg: {violation!r}"[:500]


def _resource_finding(resource: Resource, rule: str, severity: Severity, message: str) -> Finding:
    line, column = resource.positions.get(("metadata", "name"), (resource.line, 0))
    return Finding(
        rule=rule,
        severity=severity,
        message=message,
        file=resource.file,
        line=line,
        column=column,
        source=Source.POLICY,
        resource=resource.ref,
    )


def _object_finding(resource: Resource, rule: str, severity: Severity, message: str, path: FieldPath) -> Finding:
    line, column = resource.position(path)
    what = "constraint" if rule == RULE_INVALID_CONSTRAINT else resource.kind
    return Finding(
        rule=rule,
        severity=severity,
        message=f"{what} {resource.name or '(unnamed)'}: {message}",
        file=resource.file,
        line=line,
        column=column,
        source=Source.POLICY,
        resource=resource.ref,
    )
