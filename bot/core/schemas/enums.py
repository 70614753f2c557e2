"""Allowed values of well-known built-in fields, which the bundled schemas only list in prose.

The published OpenAPI drops the ``enum`` of Kubernetes string "enum types" (the API server
still rejects other values), so ``imagePullPolicy: Allways`` would pass unnoticed. Each entry
names a ``_definitions.json`` definition, a property, and the values the API server accepts.
"""

from __future__ import annotations

from typing import Any

_PROTOCOLS = ("TCP", "UDP", "SCTP")
_ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")

# (definition name, property, allowed values, the values are those of the list items)
KNOWN_ENUMS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type", ("Recreate", "RollingUpdate"), False),
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", "type", ("OnDelete", "RollingUpdate"), False),
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type", ("OnDelete", "RollingUpdate"), False),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy", ("OrderedReady", "Parallel"), False),
    ("io.k8s.api.core.v1.Container", "imagePullPolicy", ("Always", "IfNotPresent", "Never"), False),
    ("io.k8s.api.core.v1.Container", "terminationMessagePolicy", ("File", "FallbackToLogsOnError"), False),
    ("io.k8s.api.core.v1.PodSpec", "restartPolicy", ("Always", "OnFailure", "Never"), False),
    (
        "io.k8s.api.core.v1.PodSpec",
        "dnsPolicy",
        ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
        False,
    ),
    ("io.k8s.api.core.v1.ContainerPort", "protocol", _PROTOCOLS, False),
    ("io.k8s.api.core.v1.ServicePort", "protocol", _PROTOCOLS, False),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "type",
        ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"),
        False,
    ),
    ("io.k8s.api.core.v1.ServiceSpec", "externalTrafficPolicy", ("Cluster", "Local"), False),
    ("io.k8s.api.core.v1.ServiceSpec", "internalTrafficPolicy", ("Cluster", "Local"), False),
    ("io.k8s.api.core.v1.ServiceSpec", "sessionAffinity", ("ClientIP", "None"), False),
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "accessModes", _ACCESS_MODES, True),
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "volumeMode", ("Block", "Filesystem"), False),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "accessModes", _ACCESS_MODES, True),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "persistentVolumeReclaimPolicy",
        ("Delete", "Recycle", "Retain"),
        False,
    ),
    ("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy", ("Allow", "Forbid", "Replace"), False),
    ("io.k8s.api.batch.v1.JobSpec", "completionMode", ("NonIndexed", "Indexed"), False),
    (
        "io.k8s.api.networking.v1.HTTPIngressPath",
        "pathType",
        ("Exact", "Prefix", "ImplementationSpecific"),
        False,
    ),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "policyTypes", ("Ingress", "Egress"), True),
)


def add_known_enums(definitions: dict[str, Any]) -> None:
    """Add ``enum`` to the known fields of a (copied) definitions document, in place."""
    defs = definitions.get("$defs", {})
    for name, prop, values, on_items in KNOWN_ENUMS:
        field = defs.get(name, {}).get("properties", {}).get(prop)
        if not isinstance(field, dict):
            continue  # the field does not exist in this Kubernetes version
        target = field.get("items") if on_items else field
        if isinstance(target, dict) and "enum" not in target and "$ref" not in target:
            nullable = "null" in (target.get("type") or [])
            target["enum"] = [*values, None] if nullable else list(values)
