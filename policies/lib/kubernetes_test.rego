package gitops.lib.kubernetes_test

import rego.v1

import data.gitops.lib.kubernetes as k8s

cronjob := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "nightly"},
	"spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "migrate", "image": "migrate:1"}],
		"containers": [{"name": "run", "image": "run:1"}, {"image": "helper:1"}],
	}}}}},
}

test_cronjob_containers_have_nested_paths if {
	paths := {c.path | some c in k8s.containers} with input as cronjob
	paths == {
		"spec.jobTemplate.spec.template.spec.initContainers[0]",
		"spec.jobTemplate.spec.template.spec.containers[0]",
		"spec.jobTemplate.spec.template.spec.containers[1]",
	}
}

test_unnamed_container_is_labelled_by_index if {
	labels := {c.label | some c in k8s.containers} with input as cronjob
	labels == {`init container "migrate"`, `container "run"`, `container "#1"`}
}

test_pod_spec_path_per_kind if {
	k8s.pod_spec_path == "spec" with input as {"kind": "Pod"}
	k8s.pod_spec_path == "spec.template.spec" with input as {"kind": "StatefulSet"}
	k8s.pod_spec_path == "spec.jobTemplate.spec.template.spec" with input as {"kind": "CronJob"}
	not k8s.pod_spec_path with input as {"kind": "ConfigMap"}
}

test_no_containers_for_non_workloads if {
	count(k8s.containers) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"name": "x"}]}}
}

test_group_from_api_version if {
	k8s.group == "apps" with input as {"apiVersion": "apps/v1"}
	k8s.group == "" with input as {"apiVersion": "v1"}
	k8s.group == "" with input as {"kind": "ConfigMap"}
}

test_nearest_path_stops_at_existing_parent if {
	k8s.nearest_path("spec", {"a": {"b": 1}}, ["a", "c", "d"]) == "spec.a"
	k8s.nearest_path("spec", {"a": {"b": false}}, ["a", "b"]) == "spec.a.b"
	k8s.nearest_path("spec", {}, ["a"]) == "spec"
	k8s.nearest_path("", {"a": {}}, ["a", "b"]) == "a"
}

test_cluster_scoped_kinds if {
	k8s.is_cluster_scoped with input as {"kind": "ValidatingWebhookConfiguration"}
	k8s.is_cluster_scoped with input as {"kind": "K8sRequiredLabels", "apiVersion": "constraints.gatekeeper.sh/v1beta1"}
	not k8s.is_cluster_scoped with input as {"kind": "ConfigMap", "apiVersion": "v1"}
}
