package gitops.builtin.readiness_probe

import rego.v1

probe := {"httpGet": {"path": "/healthz", "port": 8080}}

deployment(containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": containers}}},
}

test_missing_probe_warned_at_container if {
	results := warn with input as deployment([{"name": "app", "readinessProbe": probe}, {"name": "sidecar"}])
	results == {{
		"msg": `Deployment "web": container "sidecar" has no readinessProbe; add one so it only receives traffic when it can serve`,
		"path": "spec.template.spec.containers[1]",
	}}
}

test_probe_present_passes if {
	count(warn) == 0 with input as deployment([{"name": "app", "readinessProbe": probe}])
}

test_statefulset_daemonset_pod_checked if {
	count(warn) == 1 with input as {"kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
	count(warn) == 1 with input as {"kind": "DaemonSet", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
	count(warn) == 1 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}}
}

test_init_and_ephemeral_containers_ignored if {
	count(warn) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "app", "readinessProbe": probe}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
}

test_jobs_and_cronjobs_ignored if {
	count(warn) == 0 with input as {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
	count(warn) == 0 with input as {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}}}
}
