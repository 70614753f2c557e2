"""API-server checks of a pod spec, wherever it sits: ValidatePodSpec in k8s.io/kubernetes pkg/apis/core/validation/validation.go."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.core.resource import FieldPath
from bot.core.schemas import k8svalidation as kv
from bot.core.schemas.apicheck import (
    RULE_CONFIG_KEY,
    RULE_DNS_NAME,
    RULE_DUPLICATE_NAME,
    RULE_FORBIDDEN,
    RULE_LABEL,
    RULE_ONE_OF,
    RULE_PORT_NAME,
    RULE_UNDEFINED_VOLUME,
    Checker,
    items,
    mapping,
    string,
)
from bot.core.schemas.messages import RULE_ENUM, RULE_RANGE, RULE_REQUIRED
from bot.core.schemas.quantity import QuantityError, quantity_value

# In validatePodSpec order: regular containers first, so a clash is reported on the init container.
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_HUGEPAGES_PREFIX = "hugepages-"
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_MAX_INT32 = 2**31 - 1


def check_labels(c: Checker, labels: Any, path: FieldPath) -> None:
    """ValidateLabels (apimachinery/pkg/apis/meta/v1/validation): keys IsQualifiedName, values IsValidLabelValue."""
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        if isinstance(key, str):
            c.each_error(RULE_LABEL, (*path, key), key, kv.is_qualified_name(key), "ValidateLabelName")
        if isinstance(value, str):
            c.each_error(RULE_LABEL, (*path, key), value, kv.is_valid_label_value(value), "IsValidLabelValue")


def check_annotations(c: Checker, annotations: Any, path: FieldPath) -> None:
    """ValidateAnnotations (apimachinery/pkg/api/validation/objectmeta.go): keys are qualified names (any case)."""
    if not isinstance(annotations, dict):
        return
    for key in annotations:
        if isinstance(key, str):
            c.each_error(
                RULE_LABEL, (*path, key), key, kv.is_qualified_name(key.lower()), "ValidateAnnotations"
            )


def check_pod_template(c: Checker, template: Any, path: FieldPath) -> None:
    """ValidatePodTemplateSpec: the template's labels and annotations, then its pod spec."""
    if not isinstance(template, dict):
        return
    metadata = mapping(template, "metadata")
    check_labels(c, metadata.get("labels"), (*path, "metadata", "labels"))
    check_annotations(c, metadata.get("annotations"), (*path, "metadata", "annotations"))
    spec = template.get("spec")
    if isinstance(spec, dict):
        check_pod_spec(c, spec, (*path, "spec"))
    elif not c.partial:
        c.required(template, "spec", path, "ValidatePodTemplateSpec")


def check_pod_spec(c: Checker, spec: dict[str, Any], path: FieldPath) -> None:
    volumes = _check_volumes(c, spec, path)
    if not c.partial and not spec.get("containers"):
        c.add(
            RULE_REQUIRED,
            (*path, "containers"),
            'missing required field "containers": a pod needs at least one container',
            "validateContainers",
        )
    seen: dict[str, FieldPath] = {}
    for list_name in CONTAINER_LISTS:
        for index, container in items(spec, list_name):
            where = (*path, list_name, index)
            _check_container(c, container, where, volumes, list_name, seen)
    check_labels(c, spec.get("nodeSelector"), (*path, "nodeSelector"))
    for key, check in (("hostname", "ValidateDNS1123Label"), ("subdomain", "ValidateDNS1123Label")):
        value = string(spec, key)
        if value:
            c.each_error(RULE_DNS_NAME, (*path, key), value, kv.is_dns1123_label(value), check)
    for key in ("serviceAccountName", "serviceAccount"):
        value = string(spec, key)
        if value:
            c.each_error(
                RULE_DNS_NAME,
                (*path, key),
                value,
                kv.is_dns1123_subdomain(value),
                "ValidateServiceAccountName",
            )
    deadline = spec.get("activeDeadlineSeconds")
    if kv.is_int(deadline) and not 1 <= deadline <= _MAX_INT32:
        c.add(
            RULE_RANGE,
            (*path, "activeDeadlineSeconds"),
            f"invalid value {deadline}: must be between 1 and {_MAX_INT32}, inclusive",
            "validatePodSpec",
        )


def _check_volumes(c: Checker, spec: dict[str, Any], path: FieldPath) -> set[str] | None:
    """validateVolumes: DNS-1123 label names, each once. Returns the names (None when a patch may add more)."""
    names: set[str] = set()
    for index, volume in items(spec, "volumes"):
        name = string(volume, "name")
        where = (*path, "volumes", index, "name")
        if not name:
            continue
        c.each_error(
            RULE_DNS_NAME, where, name, kv.is_dns1123_label(name), "validateVolumes (IsDNS1123Label)"
        )
        if name in names and not c.partial:
            c.add(
                RULE_DUPLICATE_NAME,
                where,
                f'duplicate value "{name}": another volume of this pod has that name',
                "validateVolumes",
            )
        names.add(name)
        for source in ("configMap", "secret"):
            for item_index, item in items(mapping(volume, source), "items"):
                key = string(item, "key")
                if key is not None:
                    c.each_error(
                        RULE_CONFIG_KEY,
                        (*path, "volumes", index, source, "items", item_index, "key"),
                        key,
                        kv.is_config_map_key(key),
                        "validateKeyToPath (IsConfigMapKey)",
                    )
    return None if c.partial else names


def _check_container(
    c: Checker,
    container: dict[str, Any],
    path: FieldPath,
    volumes: set[str] | None,
    list_name: str,
    seen: dict[str, FieldPath],
) -> None:
    name = string(container, "name")
    if name:
        c.each_error(
            RULE_DNS_NAME,
            (*path, "name"),
            name,
            kv.is_dns1123_label(name),
            "validateContainers (IsDNS1123Label)",
        )
        if name in seen and not c.partial:
            c.add(
                RULE_DUPLICATE_NAME,
                (*path, "name"),
                f'duplicate value "{name}": container names must be unique across containers, initContainers and ephemeralContainers',
                "validateContainers",
            )
        seen.setdefault(name, path)
    if list_name != "ephemeralContainers":
        c.required(container, "image", (*path, "image"), "validateContainers")
    _check_ports(c, container, path)
    _check_mounts(c, container, path, volumes)
    _check_env(c, container, path)
    _check_resources(c, mapping(container, "resources"), (*path, "resources"))
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict) and list_name == "containers":
            _check_probe(c, probe, (*path, probe_name), probe_name)


def _check_ports(c: Checker, container: dict[str, Any], path: FieldPath) -> None:
    """validateContainerPorts: IANA port names, unique per container; containerPort and hostPort 1..65535."""
    names: set[str] = set()
    for index, port in items(container, "ports"):
        where = (*path, "ports", index)
        name = string(port, "name")
        if name:
            errors = kv.is_valid_port_name(name)
            c.each_error(RULE_PORT_NAME, (*where, "name"), name, errors, "IsValidPortName")
            if not errors and name in names and not c.partial:
                c.add(
                    RULE_DUPLICATE_NAME,
                    (*where, "name"),
                    f'duplicate value "{name}": port names must be unique within a container',
                    "validateContainerPorts",
                )
            names.add(name)
        if port.get("containerPort") == 0 and not c.partial:
            c.add(
                RULE_REQUIRED,
                (*where, "containerPort"),
                "required value: containerPort must be set (0 is not a port)",
                "validateContainerPorts",
            )
        else:
            c.port_number(port, "containerPort", where)
        c.port_number(port, "hostPort", where, zero_ok=True)


def _check_mounts(c: Checker, container: dict[str, Any], path: FieldPath, volumes: set[str] | None) -> None:
    """ValidateVolumeMounts: each mount names a volume of the pod, each mountPath once."""
    mount_paths: set[str] = set()
    for index, mount in items(container, "volumeMounts"):
        where = (*path, "volumeMounts", index)
        name = string(mount, "name")
        if name and volumes is not None and name not in volumes:
            listed = ", ".join(sorted(volumes)) or "none"
            c.add(
                RULE_UNDEFINED_VOLUME,
                (*where, "name"),
                f'not found: volume "{name}" is not defined in the pod\'s volumes (defined: {listed})',
                "ValidateVolumeMounts",
            )
        mount_path = string(mount, "mountPath")
        if mount_path and not c.partial:
            if mount_path in mount_paths:
                c.add(
                    RULE_DUPLICATE_NAME,
                    (*where, "mountPath"),
                    f'invalid value "{mount_path}": must be unique',
                    "ValidateVolumeMounts",
                )
            mount_paths.add(mount_path)


def _check_env(c: Checker, container: dict[str, Any], path: FieldPath) -> None:
    """ValidateEnv / ValidateEnvFrom: one source per valueFrom and envFrom entry, valid keys and object names."""
    for index, env in items(container, "env"):
        where = (*path, "env", index)
        value_from = env.get("valueFrom")
        if not isinstance(value_from, dict):
            continue
        sources = [
            k
            for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
            if value_from.get(k) is not None
        ]
        if len(sources) > 1:
            c.add(
                RULE_ONE_OF,
                (*where, "valueFrom"),
                f"may not have more than one field specified at a time (found {', '.join(sources)})",
                "validateEnvVarValueFrom",
            )
        if isinstance(env.get("value"), str) and env["value"] and not c.partial:
            c.add(
                RULE_FORBIDDEN,
                (*where, "valueFrom"),
                "may not be specified when `value` is not empty",
                "validateEnvVarValueFrom",
            )
        for ref_name in ("configMapKeyRef", "secretKeyRef"):
            ref = value_from.get(ref_name)
            key = string(ref, "key")
            if key is not None:
                c.each_error(
                    RULE_CONFIG_KEY,
                    (*where, "valueFrom", ref_name, "key"),
                    key,
                    kv.is_config_map_key(key),
                    "validateConfigMapKeySelector (IsConfigMapKey)",
                )
            ref_target = string(ref, "name")
            if ref_target:
                c.each_error(
                    RULE_DNS_NAME,
                    (*where, "valueFrom", ref_name, "name"),
                    ref_target,
                    kv.is_dns1123_subdomain(ref_target),
                    "ValidateConfigMapName / ValidateSecretName",
                )
    for index, env_from in items(container, "envFrom"):
        where = (*path, "envFrom", index)
        sources = [k for k in ("configMapRef", "secretRef") if env_from.get(k) is not None]
        if len(sources) > 1:
            c.add(
                RULE_ONE_OF,
                where,
                "may not have more than one field specified at a time (configMapRef and secretRef)",
                "ValidateEnvFrom",
            )
        elif not sources and not c.partial:
            c.add(RULE_ONE_OF, where, "must specify one of: `configMapRef` or `secretRef`", "ValidateEnvFrom")
        for ref_name in sources:
            target = string(env_from.get(ref_name), "name")
            if target:
                c.each_error(
                    RULE_DNS_NAME,
                    (*where, ref_name, "name"),
                    target,
                    kv.is_dns1123_subdomain(target),
                    "ValidateEnvFrom (ValidateConfigMapName / ValidateSecretName)",
                )


def check_resource_list(
    c: Checker, resources: dict[str, Any], path: FieldPath, check: str
) -> dict[str, Decimal]:
    """Quantity values of a ResourceList that parse and are not negative (ValidateResourceQuantityValue)."""
    values: dict[str, Decimal] = {}
    for name, raw in resources.items():
        try:
            amount = quantity_value(raw)
        except QuantityError:
            continue  # reported by the quantity walk over the whole object
        if amount < 0:
            c.add(
                RULE_RANGE, (*path, name), f"invalid value {raw!r}: must be greater than or equal to 0", check
            )
            continue
        values[str(name)] = amount
    return values


def _check_resources(c: Checker, resources: dict[str, Any], path: FieldPath) -> None:
    """ValidateResourceRequirements: standard resource names, non-negative, requests <= limits."""
    found: dict[str, dict[str, Decimal]] = {}
    for part in ("limits", "requests"):
        resource_list = mapping(resources, part)
        for name in resource_list:
            if (
                isinstance(name, str)
                and "/" not in name
                and name not in _STANDARD_CONTAINER_RESOURCES
                and not name.startswith(_HUGEPAGES_PREFIX)
            ):
                c.add(
                    RULE_ENUM,
                    (*path, part, name),
                    f'invalid resource name "{name}": must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or a qualified name such as example.com/gpu',
                    "validateContainerResourceName",
                )
        found[part] = check_resource_list(c, resource_list, (*path, part), "ValidateResourceQuantityValue")
    for name, request in found["requests"].items():
        limit = found["limits"].get(name)
        if limit is None:
            continue
        if name.startswith(_HUGEPAGES_PREFIX) and request != limit:
            c.add(
                RULE_RANGE,
                (*path, "requests", name),
                f"must be equal to {name} limit of {mapping(resources, 'limits')[name]}",
                "ValidateResourceRequirements",
            )
        elif request > limit:
            c.add(
                RULE_RANGE,
                (*path, "requests", name),
                f"must be less than or equal to {name} limit of {mapping(resources, 'limits')[name]}",
                "ValidateResourceRequirements",
            )


def _check_probe(c: Checker, probe: dict[str, Any], path: FieldPath, probe_name: str) -> None:
    """validateProbe + validateHandler: non-negative timings, exactly one handler, valid ports."""
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        c.nonnegative(probe, key, path, "validateProbe (ValidateNonnegativeField)")
    success = probe.get("successThreshold")
    if probe_name != "readinessProbe" and kv.is_int(success) and success != 1:
        c.add(
            RULE_RANGE,
            (*path, "successThreshold"),
            f"invalid value {success}: must be 1",
            "validateContainers (liveness and startup probes)",
        )
    grace = probe.get("terminationGracePeriodSeconds")
    if kv.is_int(grace):
        if probe_name == "readinessProbe":
            c.add(
                RULE_FORBIDDEN,
                (*path, "terminationGracePeriodSeconds"),
                "must not be set for readinessProbes",
                "validateReadinessProbe",
            )
        elif grace <= 0:
            c.add(
                RULE_RANGE,
                (*path, "terminationGracePeriodSeconds"),
                f"invalid value {grace}: must be greater than 0",
                "validateProbe",
            )
    handlers = [h for h in _PROBE_HANDLERS if probe.get(h) is not None]
    if len(handlers) > 1:
        c.add(
            RULE_ONE_OF,
            (*path, handlers[1]),
            f"may not specify more than 1 handler type (found {', '.join(handlers)})",
            "validateHandler",
        )
    elif not handlers and not c.partial:
        c.add(
            RULE_REQUIRED,
            path,
            "must specify a handler type (exec, httpGet, tcpSocket or grpc)",
            "validateHandler",
        )
    for handler in ("httpGet", "tcpSocket"):
        c.port_num_or_name(mapping(probe, handler), "port", (*path, handler))
    c.port_number(mapping(probe, "grpc"), "port", (*path, "grpc"))
