"""Gatekeeper's ``spec.match``: which objects a constraint applies to (pkg/mutation/match semantics)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WILDCARD = "*"
LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
SCOPES = ("*", "Cluster", "Namespaced")
SOURCES = ("All", "Generated", "Original")
ORIGINAL, GENERATED = "Original", "Generated"  # a repository object, or one an ExpansionTemplate derived


class MatchError(Exception):
    """The match cannot be decided (Gatekeeper fails the review): the message says why."""


def wildcard_matches(pattern: str, candidate: str) -> bool:
    """Gatekeeper's Wildcard: exact, ``prefix*``, ``*suffix`` or ``*infix*``."""
    if pattern.startswith(WILDCARD) and pattern.endswith(WILDCARD) and len(pattern) > 1:
        return pattern[1:-1] in candidate
    if pattern.startswith(WILDCARD):
        return candidate.endswith(pattern[1:])
    if pattern.endswith(WILDCARD):
        return candidate.startswith(pattern[:-1])
    return pattern == candidate


def selector_problems(selector: Any, where: str) -> list[str]:
    """Why a labelSelector/namespaceSelector is invalid (Kubernetes' ValidateLabelSelector rules)."""
    if selector is None:
        return []
    if not isinstance(selector, dict):
        return [f"{where} must be an object"]
    problems = []
    labels = selector.get("matchLabels") or {}
    if not isinstance(labels, dict):
        problems.append(f"{where}.matchLabels must be an object")
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        at = f"{where}.matchExpressions[{i}]"
        if not isinstance(expr, dict) or not isinstance(expr.get("key"), str):
            problems.append(f"{at} needs a key")
            continue
        op, values = expr.get("operator"), expr.get("values") or []
        if op not in LABEL_OPERATORS:
            problems.append(f"{at}.operator {op!r} is not one of {', '.join(LABEL_OPERATORS)}")
        elif op in ("In", "NotIn") and not values:
            problems.append(f"{at}: operator {op} needs a non-empty values list")
        elif op in ("Exists", "DoesNotExist") and values:
            problems.append(f"{at}: operator {op} takes no values")
    return problems


def match_problems(match: Any) -> list[str]:
    """Why ``spec.match`` is invalid; Gatekeeper rejects such constraints."""
    if match is None:
        return []
    if not isinstance(match, dict):
        return ["spec.match must be an object"]
    problems = []
    scope = match.get("scope")
    if scope not in (None, "", *SCOPES):
        problems.append(f"spec.match.scope {scope!r} is not one of {', '.join(SCOPES)}")
    if match.get("source") not in (None, "", *SOURCES):
        problems.append(f"spec.match.source {match.get('source')!r} is not one of {', '.join(SOURCES)}")
    for key in ("labelSelector", "namespaceSelector"):
        problems.extend(selector_problems(match.get(key), f"spec.match.{key}"))
    for key in ("kinds", "namespaces", "excludedNamespaces"):
        if match.get(key) is not None and not isinstance(match.get(key), list):
            problems.append(f"spec.match.{key} must be a list")
    return problems


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """Kubernetes label selector semantics; an empty selector matches everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if key not in labels or labels[key] != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def is_namespace(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Namespace" and _group(obj) == ""


def matches(
    match: Mapping[str, Any] | None,
    obj: Mapping[str, Any],
    namespace: Mapping[str, Any] | None,
    *,
    source: str = ORIGINAL,
) -> bool:
    """True when ``obj`` is in scope; ``namespace`` is its Namespace object when known.

    Every criterion must hold (source, kinds, scope, namespaces, excludedNamespaces, labelSelector,
    namespaceSelector, name); an unset criterion matches. Raises MatchError where Gatekeeper
    cannot decide either (a namespaceSelector for an object whose Namespace is unknown).
    """
    if not match:
        return True
    return (
        match.get("source") in (None, "", "All", source)
        and _kinds_match(match, obj)
        and _scope_matches(match, obj, namespace)
        and _namespaces_match(match, obj, namespace)
        and _excluded_namespaces_match(match, obj, namespace)
        and _labels_match(match, obj)
        and _namespace_selector_matches(match, obj, namespace)
        and _name_matches(match, obj)
    )


def _group(obj: Mapping[str, Any]) -> str:
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.rsplit("/", 1)[0]


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _object_namespace(obj: Mapping[str, Any]) -> str:
    ns = _metadata(obj).get("namespace")
    return ns if isinstance(ns, str) else ""


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    labels = _metadata(obj or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _kinds_match(match: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    kinds = match.get("kinds") or []
    if not kinds:
        return True
    kind, group = obj.get("kind"), _group(obj)
    for entry in kinds:
        entry = entry if isinstance(entry, dict) else {}
        names, groups = entry.get("kinds") or [], entry.get("apiGroups") or []
        if (not names or WILDCARD in names or kind in names) and (not groups or WILDCARD in groups or group in groups):
            return True
    return False


def _scope_matches(match: Mapping[str, Any], obj: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> bool:
    has_namespace = bool(_object_namespace(obj)) or namespace is not None
    scope = match.get("scope")
    if scope == "Cluster":
        return is_namespace(obj) or not has_namespace
    if scope == "Namespaced":
        return not is_namespace(obj) and has_namespace
    return True


def _namespace_name(obj: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> str | None:
    """The namespace the namespace criteria compare: a Namespace's own name; None for cluster-scoped objects."""
    if is_namespace(obj):
        name = _metadata(obj).get("name")
        return name if isinstance(name, str) else ""
    if namespace is not None:
        return str(_metadata(namespace).get("name") or "")
    return _object_namespace(obj) or None


def _namespaces_match(match: Mapping[str, Any], obj: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> bool:
    patterns = match.get("namespaces") or []
    name = _namespace_name(obj, namespace)
    if not patterns or name is None:
        return True
    return any(wildcard_matches(str(p), name) for p in patterns)


def _excluded_namespaces_match(
    match: Mapping[str, Any], obj: Mapping[str, Any], namespace: Mapping[str, Any] | None
) -> bool:
    patterns = match.get("excludedNamespaces") or []
    name = _namespace_name(obj, namespace)
    if not patterns or name is None:
        return True
    return not any(wildcard_matches(str(p), name) for p in patterns)


def _labels_match(match: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    selector = match.get("labelSelector")
    return selector is None or selector_matches(selector, _labels(obj))


def _namespace_selector_matches(
    match: Mapping[str, Any], obj: Mapping[str, Any], namespace: Mapping[str, Any] | None
) -> bool:
    selector = match.get("namespaceSelector")
    if selector is None:
        return True
    if is_namespace(obj):
        return selector_matches(selector, _labels(obj))
    if namespace is None and not _object_namespace(obj):
        return True  # cluster-scoped objects are not filtered by namespaceSelector
    if namespace is None:
        raise MatchError(
            f"namespace selector for namespace-scoped object but missing Namespace {_object_namespace(obj)!r}"
        )
    return selector_matches(selector, _labels(namespace))


def _name_matches(match: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    pattern = match.get("name")
    if not pattern:
        return True
    name = _metadata(obj).get("name")
    return isinstance(name, str) and wildcard_matches(str(pattern), name)
