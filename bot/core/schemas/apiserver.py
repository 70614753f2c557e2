"""What the API server enforces beyond the OpenAPI schema, checked offline on one object.

The rules follow k8s.io/kubernetes pkg/apis/{core,apps,batch,autoscaling,policy}/validation
and k8s.io/apimachinery's validation helpers (README: "API-server validation"). Kustomize
patches are partial objects: only what they contain is checked, never what they lack, and
never rules that need the whole object (selector vs labels, mounts vs volumes, duplicates).
"""

from __future__ import annotations

from typing import Any

from bot.core.findings import Finding
from bot.core.resource import FieldPath, Resource
from bot.core.schemas import k8svalidation as kv
from bot.core.schemas.apicheck import (
    RULE_CONFIG_KEY,
    RULE_DNS_NAME,
    RULE_DUPLICATE_NAME,
    RULE_FORBIDDEN,
    RULE_QUANTITY,
    RULE_SELECTOR_MISMATCH,
    Checker,
    NameCheck,
    items,
    mapping,
    string,
)
from bot.core.schemas.messages import RULE_RANGE, RULE_REQUIRED
from bot.core.schemas.podspec import (
    check_annotations,
    check_labels,
    check_pod_spec,
    check_pod_template,
    check_resource_list,
)
from bot.core.schemas.quantity import QuantityError, quantity_value
from bot.core.schemas.quantity_fields import quantity_fields
from bot.core.schemas.registry import split_api_version
from bot.core.schemas.selectors import check_label_selector, selector_matches

_SUBDOMAIN = ("NameIsDNSSubdomain", kv.is_dns1123_subdomain)
_PATH_SEGMENT = ("IsValidPathSegmentName", kv.is_path_segment_name)
# ValidateNameFunc per kind: ValidateServiceName, ValidateNamespaceName, ValidateRBACName, ... (others: DNS subdomain)
_NAME_CHECKS: dict[tuple[str, str], tuple[str, NameCheck]] = {
    ("", "Service"): ("NameIsDNS1035Label", kv.is_dns1035_label),
    ("", "Namespace"): ("ValidateNamespaceName (NameIsDNSLabel)", kv.is_dns1123_label),
}
_GROUP_NAME_CHECKS: dict[str, tuple[str, NameCheck]] = {
    **dict.fromkeys(
        (
            "",
            "apps",
            "batch",
            "autoscaling",
            "policy",
            "networking.k8s.io",
            "storage.k8s.io",
            "scheduling.k8s.io",
            "admissionregistration.k8s.io",
            "coordination.k8s.io",
            "node.k8s.io",
            "discovery.k8s.io",
            "apiextensions.k8s.io",
        ),
        _SUBDOMAIN,
    ),
    "rbac.authorization.k8s.io": ("ValidateRBACName (IsValidPathSegmentName)", kv.is_path_segment_name),
    "flowcontrol.apiserver.k8s.io": _PATH_SEGMENT,
}
# Kinds the API server stores without a namespace (it clears metadata.namespace before validating them).
_CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "StorageClass",
        "CustomResourceDefinition",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "IngressClass",
        "RuntimeClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "APIService",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "CertificateSigningRequest",
        "ComponentStatus",
    }
)
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_CRONJOB_NAME_MAX = 52  # DNS1035LabelMaxLength - 11: room for the Job suffix


def api_server_findings(resource: Resource, version: str, *, builtin: bool) -> list[Finding]:
    """Every check of this module for one object; ``builtin`` False: a custom resource (metadata only)."""
    c = Checker(resource)
    obj = resource.obj
    group, _ = split_api_version(resource.api_version)
    kind = resource.kind
    _check_metadata(c, obj, group, kind, builtin)
    if builtin:
        _check_quantities(c, version, resource)
        spec = obj.get("spec")
        check = _KIND_CHECKS.get((group, kind))
        if check is not None:
            check(c, obj, spec if isinstance(spec, dict) else {})
    return sorted(_unique(c.findings), key=lambda f: (f.line, f.column))


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for finding in findings:
        key = (finding.rule, finding.path, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


# -- metadata ---------------------------------------------------------------------------------


def _check_metadata(c: Checker, obj: dict[str, Any], group: str, kind: str, builtin: bool) -> None:
    """ValidateObjectMeta (apimachinery/pkg/api/validation/objectmeta.go) with the kind's name function."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return
    name_check = _NAME_CHECKS.get((group, kind)) or (_GROUP_NAME_CHECKS.get(group) if builtin else _SUBDOMAIN)
    name, generate_name = string(metadata, "name"), string(metadata, "generateName")
    if name_check is not None:
        check_name, function = name_check
        if name:
            c.each_error(RULE_DNS_NAME, ("metadata", "name"), name, function(name), check_name)
        elif generate_name:  # a prefix: a trailing dash is allowed (maskTrailingDash)
            masked = (
                generate_name[:-2] + "a"  # upstream replaces the last two characters
                if len(generate_name) > 1 and generate_name.endswith("-")
                else generate_name
            )
            c.each_error(
                RULE_DNS_NAME, ("metadata", "generateName"), generate_name, function(masked), check_name
            )
    if not name and not generate_name and not c.partial and "name" not in metadata:
        c.add(
            RULE_REQUIRED,
            ("metadata",),
            'missing required field "name": name or generateName is required',
            "ValidateObjectMeta",
        )
    namespace = string(metadata, "namespace")
    if namespace and builtin and kind not in _CLUSTER_SCOPED:
        c.each_error(
            RULE_DNS_NAME,
            ("metadata", "namespace"),
            namespace,
            kv.is_dns1123_label(namespace),
            "ValidateNamespaceName",
        )
    check_labels(c, metadata.get("labels"), ("metadata", "labels"))
    check_annotations(c, metadata.get("annotations"), ("metadata", "annotations"))


def _check_quantities(c: Checker, version: str, resource: Resource) -> None:
    """Quantity.UnmarshalJSON (ParseQuantity): a quantity that does not parse fails the whole request."""
    for path, value in quantity_fields(version, resource.api_version, resource.kind, resource.obj):
        try:
            quantity_value(value)
        except QuantityError as err:
            shown = f'"{value}"' if isinstance(value, str) else repr(value)
            c.add(
                RULE_QUANTITY,
                path,
                f"{shown} is not a valid quantity ({err}); write a number with an optional suffix: "
                "Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024), m, k, M, G, T, P, E (powers of 1000) or e<N>, "
                'e.g. "500Mi", "0.5", "100m", "1e3"',
                "resource.ParseQuantity",
            )


# -- workloads --------------------------------------------------------------------------------


def _check_selector_and_template(
    c: Checker,
    spec: dict[str, Any],
    kind_word: str,
    template_path: FieldPath = ("spec", "template"),
    *,
    required: bool = True,
) -> None:
    """The selector is valid, not empty, and selects the template's labels (ValidatePodTemplateSpecForReplicaSet)."""
    selector = spec.get("selector")
    template = spec.get("template")
    if isinstance(selector, dict):
        valid = check_label_selector(c, selector, (*template_path[:-1], "selector"))
        empty = not selector.get("matchLabels") and not selector.get("matchExpressions")
        if empty and required and not c.partial:
            c.add(
                RULE_SELECTOR_MISMATCH,
                (*template_path[:-1], "selector"),
                f"empty selector is invalid for {kind_word}",
                "ValidateLabelSelector",
            )
        elif valid and not empty and not c.partial and isinstance(template, dict):
            labels = mapping(mapping(template, "metadata"), "labels")
            if not selector_matches(selector, labels):
                c.add(
                    RULE_SELECTOR_MISMATCH,
                    (*template_path, "metadata", "labels"),
                    "`selector` does not match template `labels`: every matchLabels pair and matchExpressions "
                    "requirement of spec.selector must hold for the pod template's labels",
                    "ValidatePodTemplateSpecForReplicaSet",
                )
    check_pod_template(c, template, template_path)


def _restart_policy(
    c: Checker, spec: dict[str, Any], template_path: FieldPath, allowed: tuple[str, ...], check: str
) -> None:
    pod_spec = mapping(spec.get("template"), "spec")
    if pod_spec.get("restartPolicy", "Always") not in _RESTART_POLICIES:
        return  # not a restart policy at all: the schema's enum finding says so
    if pod_spec or not c.partial:
        c.supported(pod_spec, "restartPolicy", (*template_path, "spec"), allowed, check, default="Always")


def _deployment(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateDeploymentSpec (pkg/apis/apps/validation)."""
    for key in ("replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        c.nonnegative(spec, key, ("spec",))
    deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds", 0)
    if kv.is_int(deadline) and kv.is_int(ready) and deadline >= 0 and deadline <= ready:
        c.add(
            RULE_RANGE,
            ("spec", "progressDeadlineSeconds"),
            f"invalid value {deadline}: must be greater than minReadySeconds",
            "ValidateDeploymentSpec",
        )
    _check_selector_and_template(c, spec, "deployment")
    _restart_policy(c, spec, ("spec", "template"), ("Always",), "ValidatePodTemplateSpecForReplicaSet")
    strategy = mapping(spec, "strategy")
    rolling = strategy.get("rollingUpdate")
    path: FieldPath = ("spec", "strategy")
    if strategy.get("type") == "Recreate" and rolling is not None:
        c.add(
            RULE_FORBIDDEN,
            (*path, "rollingUpdate"),
            "may not be specified when strategy `type` is 'Recreate'",
            "ValidateDeploymentStrategy",
        )
    elif isinstance(rolling, dict):
        _rolling_update(c, rolling, (*path, "rollingUpdate"), surge_default="25%", unavailable_default="25%")


def _rolling_update(
    c: Checker, rolling: dict[str, Any], path: FieldPath, *, surge_default: Any, unavailable_default: Any
) -> None:
    """ValidateRollingUpdateDeployment / ValidateRollingUpdateDaemonSet: IntOrPercent, not both 0, at most 100%."""
    c.positive_int_or_percent(rolling, "maxUnavailable", path)
    c.positive_int_or_percent(rolling, "maxSurge", path)
    c.not_more_than_100_percent(rolling, "maxUnavailable", path)
    if c.partial:
        return
    unavailable = kv.int_or_percent_value(rolling.get("maxUnavailable", unavailable_default))
    surge = kv.int_or_percent_value(rolling.get("maxSurge", surge_default))
    if unavailable == 0 and surge == 0:
        c.add(
            RULE_RANGE,
            (*path, "maxUnavailable"),
            "may not be 0 when `maxSurge` is 0",
            "ValidateRollingUpdateDeployment",
        )


def _replica_set(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateReplicaSetSpec."""
    for key in ("replicas", "minReadySeconds"):
        c.nonnegative(spec, key, ("spec",))
    _check_selector_and_template(c, spec, "deployment")  # upstream's message says "deployment" here too
    _restart_policy(c, spec, ("spec", "template"), ("Always",), "ValidatePodTemplateSpecForReplicaSet")


def _stateful_set(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateStatefulSetSpec."""
    for key in ("replicas", "minReadySeconds", "revisionHistoryLimit"):
        c.nonnegative(spec, key, ("spec",))
    c.nonnegative(mapping(spec, "ordinals"), "start", ("spec", "ordinals"))
    _check_selector_and_template(c, spec, "statefulset")
    _restart_policy(c, spec, ("spec", "template"), ("Always",), "ValidateStatefulSetSpec")
    rolling = mapping(mapping(spec, "updateStrategy"), "rollingUpdate")
    path: FieldPath = ("spec", "updateStrategy", "rollingUpdate")
    c.nonnegative(rolling, "partition", path)
    if "maxUnavailable" in rolling:
        c.positive_int_or_percent(rolling, "maxUnavailable", path)
        c.not_more_than_100_percent(rolling, "maxUnavailable", path)
        value = kv.int_or_percent_value(rolling["maxUnavailable"])
        if (
            value is not None
            and value < 1
            and (
                kv.is_int(rolling["maxUnavailable"])
                or kv.percent_value(rolling["maxUnavailable"]) is not None
            )
        ):
            c.add(
                RULE_RANGE,
                (*path, "maxUnavailable"),
                f"invalid value {rolling['maxUnavailable']!r}: must be greater than 0",
                "ValidateStatefulSetUpdateStrategy",
            )
    for index, claim in items(spec, "volumeClaimTemplates"):
        for part in ("requests", "limits"):
            check_resource_list(
                c,
                mapping(mapping(mapping(claim, "spec"), "resources"), part),
                ("spec", "volumeClaimTemplates", index, "spec", "resources", part),
                "ValidatePersistentVolumeClaimSpec",
            )


def _daemon_set(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateDaemonSetSpec."""
    for key in ("minReadySeconds", "revisionHistoryLimit"):
        c.nonnegative(spec, key, ("spec",))
    _check_selector_and_template(c, spec, "daemonset")
    _restart_policy(c, spec, ("spec", "template"), ("Always",), "ValidateDaemonSetSpec")
    strategy = mapping(spec, "updateStrategy")
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "OnDelete" and rolling is not None:
        return
    if isinstance(rolling, dict):
        path: FieldPath = ("spec", "updateStrategy", "rollingUpdate")
        c.not_more_than_100_percent(rolling, "maxSurge", path)
        _rolling_update(c, rolling, path, surge_default=0, unavailable_default=1)


def _job_spec(c: Checker, spec: dict[str, Any], path: FieldPath) -> None:
    """validateJobSpec (pkg/apis/batch/validation)."""
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ):
        c.nonnegative(spec, key, path)
    template_path = (*path, "template")
    selector = spec.get("selector")
    if isinstance(selector, dict):
        _check_selector_and_template(c, spec, "job", template_path, required=False)
    else:
        check_pod_template(c, spec.get("template"), template_path)
    _restart_policy(c, spec, template_path, ("OnFailure", "Never"), "validateJobSpec")


def _job(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    _job_spec(c, spec, ("spec",))


def _cron_job(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateCronJobSpec: history limits, deadline, a name short enough for its Jobs, then the Job template."""
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        c.nonnegative(spec, key, ("spec",))
    name = string(mapping(obj, "metadata"), "name")
    if name and len(name) > _CRONJOB_NAME_MAX:
        c.add(
            RULE_DNS_NAME,
            ("metadata", "name"),
            f'invalid value "{name}": must be no more than {_CRONJOB_NAME_MAX} characters',
            "ValidateCronJobCreate",
        )
    job_spec = mapping(mapping(spec, "jobTemplate"), "spec")
    if job_spec or not c.partial:
        check_labels(
            c,
            mapping(mapping(spec, "jobTemplate"), "metadata").get("labels"),
            ("spec", "jobTemplate", "metadata", "labels"),
        )
        _job_spec(c, job_spec, ("spec", "jobTemplate", "spec"))


def _replication_controller(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateReplicationControllerSpec: a map selector (defaulted from the labels when empty)."""
    for key in ("replicas", "minReadySeconds"):
        c.nonnegative(spec, key, ("spec",))
    selector = spec.get("selector")
    check_labels(c, selector, ("spec", "selector"))
    template = spec.get("template")
    if isinstance(selector, dict) and selector and isinstance(template, dict) and not c.partial:
        labels = mapping(mapping(template, "metadata"), "labels")
        if any(labels.get(k) != v for k, v in selector.items()):
            c.add(
                RULE_SELECTOR_MISMATCH,
                ("spec", "template", "metadata", "labels"),
                "`selector` does not match template `labels`",
                "ValidatePodTemplateSpecForRC",
            )
    check_pod_template(c, template, ("spec", "template"))


def _pod(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    if spec or not c.partial:
        check_pod_spec(c, spec, ("spec",))


def _pod_template(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    check_pod_template(c, obj.get("template"), ("template",))


# -- services and friends ---------------------------------------------------------------------


def _service(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateService: ports (names, numbers, target ports), selector labels."""
    service_type = spec.get("type", "ClusterIP")
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports")
    if not c.partial and not ports and not headless and service_type != "ExternalName":
        c.add(
            RULE_REQUIRED,
            ("spec", "ports") if "ports" in spec else ("spec",),
            'missing required field "ports"',
            "ValidateService",
        )
    port_list = list(items(spec, "ports"))
    names: set[str] = set()
    pairs: set[tuple[Any, Any]] = set()
    for index, port in port_list:
        where: FieldPath = ("spec", "ports", index)
        name = string(port, "name")
        if len(port_list) > 1 and not name and not c.partial:
            c.add(
                RULE_REQUIRED,
                (*where,),
                'missing required field "name": every port needs a name when a Service has more than one',
                "validateServicePort",
            )
        if name:
            c.each_error(
                RULE_DNS_NAME,
                (*where, "name"),
                name,
                kv.is_dns1123_label(name),
                "validateServicePort (IsDNS1123Label)",
            )
            if name in names and not c.partial:
                c.add(
                    RULE_DUPLICATE_NAME,
                    (*where, "name"),
                    f'duplicate value "{name}": another port of this Service has that name',
                    "validateServicePort",
                )
            names.add(name)
        c.port_number(port, "port", where)
        c.port_number(port, "nodePort", where, zero_ok=True)
        c.port_num_or_name(port, "targetPort", where)
        if service_type == "ClusterIP" and kv.is_int(port.get("nodePort")) and port["nodePort"] != 0:
            c.add(
                RULE_FORBIDDEN,
                (*where, "nodePort"),
                "may not be used when `type` is 'ClusterIP'",
                "ValidateService",
            )
        pair = (port.get("port"), port.get("protocol", "TCP"))
        if kv.is_int(pair[0]) and not c.partial:
            if pair in pairs:
                c.add(
                    RULE_DUPLICATE_NAME,
                    (*where,),
                    f"duplicate value: port {pair[0]}/{pair[1]} appears twice",
                    "ValidateService",
                )
            pairs.add(pair)
    check_labels(c, spec.get("selector"), ("spec", "selector"))


def _hpa(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """validateHorizontalPodAutoscalerSpec (pkg/apis/autoscaling/validation)."""
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if kv.is_int(low) and low < 1:
        c.add(
            RULE_RANGE,
            ("spec", "minReplicas"),
            f"invalid value {low}: must be greater than or equal to 1",
            "validateHorizontalPodAutoscalerSpec",
        )
    if kv.is_int(high) and high < 1:
        c.add(
            RULE_RANGE,
            ("spec", "maxReplicas"),
            f"invalid value {high}: must be greater than 0",
            "validateHorizontalPodAutoscalerSpec",
        )
    if kv.is_int(low) and kv.is_int(high) and high < low:
        c.add(
            RULE_RANGE,
            ("spec", "maxReplicas"),
            f"invalid value {high}: must be greater than or equal to `minReplicas` ({low})",
            "validateHorizontalPodAutoscalerSpec",
        )


def _pdb(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidatePodDisruptionBudgetSpec (pkg/apis/policy/validation)."""
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        c.add(
            RULE_FORBIDDEN,
            ("spec", "maxUnavailable"),
            "minAvailable and maxUnavailable cannot be both set",
            "ValidatePodDisruptionBudgetSpec",
        )
    for key in ("minAvailable", "maxUnavailable"):
        c.positive_int_or_percent(spec, key, ("spec",))
        c.not_more_than_100_percent(spec, key, ("spec",))
    selector = spec.get("selector")
    if isinstance(selector, dict):
        check_label_selector(c, selector, ("spec", "selector"))


def _data_keys(c: Checker, obj: dict[str, Any], check: str) -> None:
    """ValidateConfigMap / ValidateSecret: keys are config keys, none in both data and binaryData."""
    seen: set[str] = set()
    for part in ("data", "stringData", "binaryData"):
        block = obj.get(part)
        if not isinstance(block, dict):
            continue
        for key in block:
            if not isinstance(key, str):
                continue
            c.each_error(
                RULE_CONFIG_KEY, (part, key), key, kv.is_config_map_key(key), f"{check} (IsConfigMapKey)"
            )
            if part == "binaryData" and key in seen and not c.partial:
                c.add(RULE_DUPLICATE_NAME, (part, key), f'duplicate of key "{key}" present in `data`', check)
            seen.add(key)


def _config_map(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    _data_keys(c, obj, "ValidateConfigMap")


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/basic-auth": (),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _secret(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateSecret: keys, and the keys a typed Secret must carry (values are never read)."""
    _data_keys(c, obj, "ValidateSecret")
    secret_type = obj.get("type")
    required = _SECRET_REQUIRED_KEYS.get(secret_type) if isinstance(secret_type, str) else None
    if not required or c.partial:
        return
    present = set(mapping(obj, "data")) | set(mapping(obj, "stringData"))
    for key in required:
        if key not in present:
            c.add(
                RULE_REQUIRED,
                ("type",),
                f'a Secret of type {secret_type} needs the key "{key}" in data or stringData',
                "ValidateSecret",
            )


def _crd(c: Checker, obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """ValidateCustomResourceDefinition: the name is <spec.names.plural>.<spec.group>."""
    name = string(mapping(obj, "metadata"), "name")
    plural, group = string(mapping(spec, "names"), "plural"), string(spec, "group")
    if name and plural and group and name != f"{plural}.{group}" and not c.partial:
        c.add(
            RULE_DNS_NAME,
            ("metadata", "name"),
            f'invalid value "{name}": must be spec.names.plural+"."+spec.group ("{plural}.{group}")',
            "ValidateCustomResourceDefinition",
        )


_KIND_CHECKS = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("apps", "StatefulSet"): _stateful_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
    ("", "ReplicationController"): _replication_controller,
    ("", "Pod"): _pod,
    ("", "PodTemplate"): _pod_template,
    ("", "Service"): _service,
    ("", "ConfigMap"): _config_map,
    ("", "Secret"): _secret,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("policy", "PodDisruptionBudget"): _pdb,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}
