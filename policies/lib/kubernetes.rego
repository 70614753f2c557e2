# Shared helpers for the built-in rules: where a document keeps its pod spec and
# containers (with the dotted field paths the bot turns into line annotations),
# which kinds are workloads, and which kinds are cluster-scoped.
# `input` is one Kubernetes document of any kind; every helper is undefined or
# empty for documents it does not apply to, so rules never need kind checks twice.
package gitops.lib.kubernetes

import rego.v1

# Kinds whose pod template lives at spec.template.spec.
template_workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}

# Every kind that carries a pod spec somewhere.
workload_kinds := template_workload_kinds | {"Pod", "CronJob"}

# Kinds whose pods are expected to run forever (so they need probes); Jobs and
# CronJobs run to completion.
long_running_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod"}

# Kinds that have no namespace (metadata.namespace is ignored by the API server).
cluster_scoped_kinds := {
	"APIService",
	"CertificateSigningRequest",
	"ClusterIssuer",
	"ClusterPolicy",
	"ClusterRole",
	"ClusterRoleBinding",
	"ClusterSecretStore",
	"ClusterExternalSecret",
	"ComponentStatus",
	"ConstraintTemplate",
	"CSIDriver",
	"CSINode",
	"CustomResourceDefinition",
	"FlowSchema",
	"GatewayClass",
	"IngressClass",
	"MutatingWebhookConfiguration",
	"Namespace",
	"Node",
	"PersistentVolume",
	"PodSecurityPolicy",
	"PriorityClass",
	"PriorityLevelConfiguration",
	"RuntimeClass",
	"StorageClass",
	"ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding",
	"ValidatingWebhookConfiguration",
	"VolumeAttachment",
	"VolumeSnapshotClass",
}

# API groups whose every kind is cluster-scoped (Gatekeeper constraints).
cluster_scoped_groups := {"constraints.gatekeeper.sh"}

# The container lists of a pod spec, in the order the kubelet starts them.
container_fields := ["initContainers", "containers", "ephemeralContainers"]

kind := k if {
	k := input.kind
	is_string(k)
} else := ""

api_version := v if {
	v := input.apiVersion
	is_string(v)
} else := ""

# API group of the input ("" for core kinds such as v1 ConfigMap).
group := g if {
	contains(api_version, "/")
	parts := split(api_version, "/")
	g := concat("/", array.slice(parts, 0, count(parts) - 1))
} else := ""

name := n if {
	n := input.metadata.name
	is_string(n)
} else := n if {
	n := input.metadata.generateName
	is_string(n)
} else := "<unnamed>"

namespace := ns if {
	ns := input.metadata.namespace
	is_string(ns)
} else := ""

# How messages name the object, e.g. `Deployment "web"`.
object_label := sprintf("%s %q", [kind, name])

is_cluster_scoped if kind in cluster_scoped_kinds

is_cluster_scoped if endswith(kind, "WebhookConfiguration")

is_cluster_scoped if group in cluster_scoped_groups

pod_spec_path := "spec" if kind == "Pod"

pod_spec_path := "spec.template.spec" if kind in template_workload_kinds

pod_spec_path := "spec.jobTemplate.spec.template.spec" if kind == "CronJob"

pod_spec := s if {
	kind == "Pod"
	s := input.spec
	is_object(s)
}

pod_spec := s if {
	kind in template_workload_kinds
	s := input.spec.template.spec
	is_object(s)
}

pod_spec := s if {
	kind == "CronJob"
	s := input.spec.jobTemplate.spec.template.spec
	is_object(s)
}

# Every container of the pod spec as
# {"container", "field", "index", "name", "path", "label"}; `path` is the
# dotted field path of the container item, e.g. spec.template.spec.containers[0].
containers contains c if {
	some field in container_fields
	items := pod_spec[field]
	is_array(items)
	some i, container in items
	is_object(container)
	c := {
		"container": container,
		"field": field,
		"index": i,
		"name": container_name(container, i),
		"path": sprintf("%s.%s[%d]", [pod_spec_path, field, i]),
		"label": sprintf("%s %q", [container_word[field], container_name(container, i)]),
	}
}

container_word := {
	"initContainers": "init container",
	"containers": "container",
	"ephemeralContainers": "ephemeral container",
}

# Containers without a name (a schema error, reported elsewhere) are named by index.
container_name(container, i) := n if {
	n := object.get(container, "name", null)
	is_string(n)
} else := sprintf("#%d", [i])

# A value no manifest contains, so object.get can tell "absent" from null/false.
_missing := {"__gitops_missing__": true}

# Dotted path of base + keys, cut back to the deepest key that exists in obj,
# so a finding about a missing field points at its nearest existing parent.
nearest_path(base, obj, keys) := join_path(base, array.slice(keys, 0, depth)) if {
	is_object(obj)
	depth := max({n |
		some n in numbers.range(0, count(keys))
		object.get(obj, array.slice(keys, 0, n), _missing) != _missing
	})
}

join_path(base, keys) := concat(".", array.concat([base], keys)) if base != ""

join_path("", keys) := concat(".", keys)

# True when obj has the field at keys (even if its value is null or false).
has_field(obj, keys) if {
	is_object(obj)
	object.get(obj, keys, _missing) != _missing
}
