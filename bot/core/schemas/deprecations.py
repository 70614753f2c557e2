"""Well-known deprecated and removed Kubernetes API versions, from the Kubernetes deprecation guide.

https://kubernetes.io/docs/reference/using-api/deprecation-guide/
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.schemas.registry import version_key

DEPRECATION_GUIDE = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"


@dataclass(frozen=True)
class ApiRemoval:
    api_version: str
    kind: str
    deprecated_in: str
    removed_in: str
    replacement: str  # the apiVersion to use instead, or advice when there is none

    def removed_message(self) -> str:
        return (
            f"{self.api_version} {self.kind} was removed in Kubernetes {self.removed_in}; "
            f"use {self.replacement}"
        )

    def deprecated_message(self, target: str) -> str:
        return (
            f"{self.api_version} {self.kind} is deprecated since Kubernetes {self.deprecated_in} "
            f"and removed in {self.removed_in} (target is {target}); use {self.replacement}"
        )


def _entries(
    api_versions: tuple[str, ...], kinds: tuple[str, ...], deprecated: str, removed: str, replacement: str
) -> list[ApiRemoval]:
    return [ApiRemoval(a, k, deprecated, removed, replacement) for a in api_versions for k in kinds]


_WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet")
_RBAC = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
_FLOW = ("FlowSchema", "PriorityLevelConfiguration")
_FLOW_V1 = "flowcontrol.apiserver.k8s.io/v1"

REMOVALS: tuple[ApiRemoval, ...] = tuple(
    _entries(("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"), _WORKLOADS, "1.9", "1.16", "apps/v1")
    + _entries(("extensions/v1beta1",), ("NetworkPolicy",), "1.9", "1.16", "networking.k8s.io/v1")
    + _entries(
        ("extensions/v1beta1", "networking.k8s.io/v1beta1"),
        ("Ingress",),
        "1.14",
        "1.22",
        "networking.k8s.io/v1",
    )
    + _entries(("networking.k8s.io/v1beta1",), ("IngressClass",), "1.19", "1.22", "networking.k8s.io/v1")
    + _entries(
        ("admissionregistration.k8s.io/v1beta1",),
        ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
    )
    + _entries(
        ("apiextensions.k8s.io/v1beta1",),
        ("CustomResourceDefinition",),
        "1.16",
        "1.22",
        "apiextensions.k8s.io/v1",
    )
    + _entries(
        ("apiregistration.k8s.io/v1beta1",), ("APIService",), "1.19", "1.22", "apiregistration.k8s.io/v1"
    )
    + _entries(
        ("certificates.k8s.io/v1beta1",),
        ("CertificateSigningRequest",),
        "1.19",
        "1.22",
        "certificates.k8s.io/v1",
    )
    + _entries(("coordination.k8s.io/v1beta1",), ("Lease",), "1.19", "1.22", "coordination.k8s.io/v1")
    + _entries(("rbac.authorization.k8s.io/v1beta1",), _RBAC, "1.17", "1.22", "rbac.authorization.k8s.io/v1")
    + _entries(("scheduling.k8s.io/v1beta1",), ("PriorityClass",), "1.14", "1.22", "scheduling.k8s.io/v1")
    + _entries(
        ("storage.k8s.io/v1beta1",),
        ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"),
        "1.19",
        "1.22",
        "storage.k8s.io/v1",
    )
    + _entries(("batch/v1beta1",), ("CronJob",), "1.21", "1.25", "batch/v1")
    + _entries(("discovery.k8s.io/v1beta1",), ("EndpointSlice",), "1.21", "1.25", "discovery.k8s.io/v1")
    + _entries(("events.k8s.io/v1beta1",), ("Event",), "1.21", "1.25", "events.k8s.io/v1")
    + _entries(("autoscaling/v2beta1",), ("HorizontalPodAutoscaler",), "1.22", "1.25", "autoscaling/v2")
    + _entries(("policy/v1beta1",), ("PodDisruptionBudget",), "1.21", "1.25", "policy/v1")
    + _entries(
        ("policy/v1beta1", "extensions/v1beta1"),
        ("PodSecurityPolicy",),
        "1.21",
        "1.25",
        "Pod Security Admission (namespace labels pod-security.kubernetes.io/*); there is no replacement API",
    )
    + _entries(("node.k8s.io/v1beta1",), ("RuntimeClass",), "1.22", "1.25", "node.k8s.io/v1")
    + _entries(("autoscaling/v2beta2",), ("HorizontalPodAutoscaler",), "1.23", "1.26", "autoscaling/v2")
    + _entries(("flowcontrol.apiserver.k8s.io/v1beta1",), _FLOW, "1.23", "1.26", _FLOW_V1)
    + _entries(("storage.k8s.io/v1beta1",), ("CSIStorageCapacity",), "1.24", "1.27", "storage.k8s.io/v1")
    + _entries(("flowcontrol.apiserver.k8s.io/v1beta2",), _FLOW, "1.26", "1.29", _FLOW_V1)
    + _entries(("flowcontrol.apiserver.k8s.io/v1beta3",), _FLOW, "1.29", "1.32", _FLOW_V1)
)

_BY_API = {(r.api_version, r.kind): r for r in REMOVALS}


def find_removal(api_version: str, kind: str) -> ApiRemoval | None:
    return _BY_API.get((api_version, kind))


def lifecycle(api_version: str, kind: str, target: str) -> tuple[str, ApiRemoval] | None:
    """``("removed", entry)`` or ``("deprecated", entry)`` for the target Kubernetes minor; None if current."""
    entry = find_removal(api_version, kind)
    if entry is None or version_key(target) < version_key(entry.deprecated_in):
        return None
    return ("removed" if version_key(target) >= version_key(entry.removed_in) else "deprecated"), entry
