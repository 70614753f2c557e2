"""Changes worth a second look: deletions that lose data or APIs, fewer replicas, new images, RBAC."""

from __future__ import annotations

from typing import Any

from bot.core.changes import ObjectKey
from bot.plan.model import CREATE, DELETE, RENAME, Risk, key_display

# Deleting these loses data or whole APIs (a Namespace takes everything in it along).
DELETION_RISKS = {
    ("", "Namespace"): "deletes everything in the namespace",
    ("", "PersistentVolumeClaim"): "the volume and its data may be deleted",
    ("apiextensions.k8s.io", "CustomResourceDefinition"): "every custom resource of this type is deleted",
}
RBAC_GROUP = "rbac.authorization.k8s.io"
_DEFAULT_REPLICAS_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def risks_of(
    operation: str,
    key: ObjectKey,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    root: str,
    previous_key: ObjectKey | None = None,
) -> list[Risk]:
    risks: list[Risk] = []
    gone = previous_key if operation == RENAME else key if operation == DELETE else None
    if gone is not None and gone[:2] in DELETION_RISKS:
        verb = f"renamed to {key[3]}: the old object is deleted" if operation == RENAME else "deleted"
        message = f"{key_display(gone)} {verb}; {DELETION_RISKS[gone[:2]]}"
        risks.append(Risk("deletion", root, key, message))
    if key[0] == RBAC_GROUP:
        what = {CREATE: "created", DELETE: "deleted", RENAME: "renamed"}.get(operation, "changed")
        risks.append(Risk("rbac", root, key, f"RBAC {key_display(key)} {what}"))
    if before is not None and after is not None:
        risks.extend(_replica_reduction(key, before, after, root))
        risks.extend(_image_changes(key, before, after, root))
    return risks


def _replica_reduction(key: ObjectKey, before: dict[str, Any], after: dict[str, Any], root: str) -> list[Risk]:
    old, new = _replicas(key, before), _replicas(key, after)
    if old is None or new is None or new >= old:
        return []
    return [Risk("replicas", root, key, f"{key_display(key)} replicas {old} → {new}")]


def _replicas(key: ObjectKey, obj: dict[str, Any]) -> int | None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    value = spec.get("replicas")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 1 if value is None and key[1] in _DEFAULT_REPLICAS_KINDS else None  # the API server's default


def _image_changes(key: ObjectKey, before: dict[str, Any], after: dict[str, Any], root: str) -> list[Risk]:
    old, new = _images(before), _images(after)
    risks = []
    for container in sorted(old.keys() | new.keys()):
        if container in old and container in new and old[container] != new[container]:
            message = f"{key_display(key)} container {container}: image {old[container]} → {new[container]}"
            risks.append(Risk("image", root, key, message))
        elif container in new and container not in old:
            risks.append(Risk("image", root, key, f"{key_display(key)} new container {container}: {new[container]}"))
    return risks


def _images(obj: dict[str, Any]) -> dict[str, str]:
    """container name -> image, for Pods, pod templates and CronJobs."""
    images: dict[str, str] = {}
    for pod_spec in _pod_specs(obj):
        for list_name in _CONTAINER_LISTS:
            containers = pod_spec.get(list_name)
            for container in containers if isinstance(containers, list) else []:
                if isinstance(container, dict) and isinstance(container.get("image"), str):
                    images[str(container.get("name", ""))] = container["image"]
    return images


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    candidates = [
        ("spec",),
        ("spec", "template", "spec"),
        ("spec", "jobTemplate", "spec", "template", "spec"),
    ]
    found = []
    for path in candidates:
        value: Any = obj
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, dict) and any(isinstance(value.get(n), list) for n in _CONTAINER_LISTS):
            found.append(value)
    return found
