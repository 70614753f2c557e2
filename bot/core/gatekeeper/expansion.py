"""Gatekeeper ExpansionTemplates: judge the Pods a Deployment (or any generator) will create, as gator does.

Most Gatekeeper policies are written for Pods, but a GitOps repository holds
Deployments, StatefulSets and Jobs. An ExpansionTemplate says how to derive the
resource a generator creates (``templateSource: spec.template`` -> a Pod); the
derived object is then reviewed like any other and its violations are reported
on the generator, prefixed ``[Implied by <template>]``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.gatekeeper.objects import ACTION_SEVERITY, InvalidObject, group_of
from bot.core.jsonfields import list_at, mapping_at, str_at
from bot.core.resource import Resource

EXPANSION_GROUP = "expansion.gatekeeper.sh"
MAX_DEPTH = 30  # Gatekeeper's guard against expansion cycles


@dataclass(frozen=True)
class ExpansionTemplate:
    name: str
    apply_to: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...]  # (groups, versions, kinds)
    source: tuple[str, ...]  # field path of the generated object's template, e.g. ("spec", "template")
    generated: tuple[str, str, str]  # (group, version, kind)
    enforcement_action: str  # "" keeps the constraint's action

    def applies_to(self, obj: Mapping[str, Any]) -> bool:
        api_version = str_at(obj, "apiVersion")
        version = api_version.rsplit("/", 1)[-1]
        group, kind = group_of(dict(obj)), obj.get("kind")
        return any(group in g and version in v and kind in k for g, v, k in self.apply_to)


@dataclass(frozen=True)
class Resultant:
    """An object a generator will create, and the template that derived it."""

    obj: dict[str, Any]
    template: ExpansionTemplate

    def message(self, msg: str) -> str:
        return f"[Implied by {self.template.name}] {msg}"


def is_expansion_template(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == "ExpansionTemplate" and group_of(obj) == EXPANSION_GROUP


def read_expansion_template(resource: Resource) -> ExpansionTemplate:
    """The template in ``resource``; raises InvalidObject for what Gatekeeper's ValidateTemplate refuses."""
    spec = mapping_at(resource.obj, "spec")
    source = spec.get("templateSource")
    if not isinstance(source, str) or not source:
        raise InvalidObject("spec.templateSource is required", ("spec",))
    gvk = mapping_at(spec, "generatedGVK")
    generated = (str(gvk.get("group") or ""), str(gvk.get("version") or ""), str(gvk.get("kind") or ""))
    if generated == ("", "", ""):
        raise InvalidObject("spec.generatedGVK is required", ("spec",))
    apply_to = tuple(
        (tuple(a.get("groups") or ()), tuple(a.get("versions") or ()), tuple(a.get("kinds") or ()))
        for a in spec.get("applyTo") or []
        if isinstance(a, dict)
    )
    if not apply_to:
        raise InvalidObject("spec.applyTo must list what the template expands", ("spec",))
    if any(generated[0] in g and generated[1] in v and generated[2] in k for g, v, k in apply_to):
        raise InvalidObject(f"the template generates {'/'.join(generated)}, which it also applies to", ("spec", "applyTo"))
    action = spec.get("enforcementAction") or ""
    if action and action not in ACTION_SEVERITY:
        raise InvalidObject(f"enforcementAction {action!r} is not one of deny, warn, dryrun", ("spec", "enforcementAction"))
    return ExpansionTemplate(resource.name, apply_to, tuple(source.split(".")), generated, action)


def expand(obj: Mapping[str, Any], templates: Sequence[ExpansionTemplate], depth: int = 0) -> list[Resultant]:
    """Every object ``obj`` generates, recursively (a CronJob's Job's Pod); generators without the source field yield none."""
    if depth >= MAX_DEPTH:
        return []
    resultants: list[Resultant] = []
    for template in templates:
        if not template.applies_to(obj):
            continue
        generated = _generate(obj, template)
        if generated is None:
            continue
        resultants.extend(expand(generated, templates, depth + 1))
        resultants.append(Resultant(generated, template))
    return resultants


def _generate(obj: Mapping[str, Any], template: ExpansionTemplate) -> dict[str, Any] | None:
    source: Any = obj
    for key in template.source:
        source = source.get(key) if isinstance(source, dict) else None
    if not isinstance(source, dict):
        return None
    group, version, kind = template.generated
    generated = copy.deepcopy(source)
    generated["apiVersion"] = f"{group}/{version}" if group else version
    generated["kind"] = kind
    parent_meta = mapping_at(obj, "metadata")
    metadata = mapping_at(generated, "metadata")
    generated["metadata"] = metadata
    if parent_meta.get("namespace"):
        metadata["namespace"] = parent_meta["namespace"]
    parent_name = str(parent_meta.get("name") or "")
    metadata["name"] = f"{parent_name}-{kind}".lower() if kind else parent_name.lower()
    owner = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": parent_name, "uid": ""}
    owners = list_at(metadata, "ownerReferences")
    if owner not in owners:
        metadata["ownerReferences"] = [*owners, owner]
    return generated
