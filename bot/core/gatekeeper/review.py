"""What a template sees: ``input.review`` for one object and ``data.inventory`` for all of them (like gator)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.jsonfields import mapping_at, str_at

# gator reviews plain objects without admission metadata; a GitOps change is about to be applied,
# so repository evaluation says CREATE (as Gatekeeper's own audit did) while test suites keep gator's "".
GATOR_OPERATION = ""
APPLY_OPERATION = "CREATE"


def group_version_kind(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    api_version = str_at(obj, "apiVersion")
    group, _, version = api_version.rpartition("/")
    kind = str_at(obj, "kind")
    return group, version, kind


def make_review(obj: Mapping[str, Any], *, operation: str = APPLY_OPERATION) -> dict[str, Any]:
    """The AdmissionRequest-shaped review gator builds for an object (no oldObject: nothing is updated)."""
    group, version, kind = group_version_kind(obj)
    metadata = mapping_at(obj, "metadata")
    review: dict[str, Any] = {
        "uid": "",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": "", "version": "", "resource": ""},
        "operation": operation,
        "userInfo": {},
        "object": obj,
    }
    name = metadata.get("name") or metadata.get("generateName")
    if isinstance(name, str) and name:
        review["name"] = name
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace:
        review["namespace"] = namespace
    return review


def review_from_admission(admission_review: Mapping[str, Any]) -> dict[str, Any]:
    """gator accepts an AdmissionReview as a case object: its request is the review, as sent."""
    request = admission_review.get("request")
    if not isinstance(request, dict):
        raise ValueError("the AdmissionReview has no request")
    if request.get("object") is None and request.get("oldObject") is None:
        raise ValueError('the AdmissionRequest contains no "object" or "oldObject" to review')
    return dict(request)


def build_inventory(objects: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``cluster[groupVersion][kind][name]`` and ``namespace[ns][groupVersion][kind][name]``, as Gatekeeper syncs them."""
    inventory: dict[str, Any] = {"cluster": {}, "namespace": {}}
    for obj in objects:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        metadata = mapping_at(obj, "metadata")
        name, namespace = metadata.get("name"), metadata.get("namespace")
        if not all(isinstance(v, str) and v for v in (api_version, kind, name)):
            continue
        if isinstance(namespace, str) and namespace:
            root = inventory["namespace"].setdefault(namespace, {})
        else:
            root = inventory["cluster"]
        root.setdefault(api_version, {}).setdefault(kind, {})[name] = obj
    return inventory


def namespaces_by_name(objects: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The Namespace objects among ``objects``: what namespaceSelector is matched against."""
    found: dict[str, Mapping[str, Any]] = {}
    for obj in objects:
        if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
            metadata = mapping_at(obj, "metadata")
            if isinstance(metadata.get("name"), str):
                found.setdefault(metadata["name"], obj)
    return found
