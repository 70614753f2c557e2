package gitops.builtin.resources_requests

import rego.v1

deployment(containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": containers}}},
}

test_no_resources_points_at_container if {
	results := warn with input as deployment([{"name": "app", "image": "app:1"}])
	results == {{
		"msg": `Deployment "web": container "app" has no cpu or memory request; set resources.requests so the scheduler can place it`,
		"path": "spec.template.spec.containers[0]",
	}}
}

test_missing_memory_points_at_requests if {
	results := warn with input as deployment([{"name": "app", "resources": {"requests": {"cpu": "100m"}}}])
	results == {{
		"msg": `Deployment "web": container "app" has no memory request; set resources.requests so the scheduler can place it`,
		"path": "spec.template.spec.containers[0].resources.requests",
	}}
}

test_only_limits_points_at_resources if {
	results := warn with input as deployment([{"name": "app", "resources": {"limits": {"memory": "128Mi"}}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].resources"}
	some r in results
	contains(r.msg, "has no cpu request")
}

test_limits_count_as_requests if {
	count(warn) == 0 with input as deployment([{"name": "app", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}])
}

test_requests_set_passes if {
	count(warn) == 0 with input as deployment([{"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}])
}

test_init_container_checked_ephemeral_ignored if {
	pod := {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {
			"initContainers": [{"name": "init"}],
			"containers": [{"name": "app", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
			"ephemeralContainers": [{"name": "debug"}],
		},
	}
	results := warn with input as pod
	{r.path | some r in results} == {"spec.initContainers[0]"}
}

test_cronjob_checked if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "run"}]}}}}}}
	results := warn with input as cronjob
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.containers[0]"}
}
