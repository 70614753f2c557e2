package gitops.builtin.resources_limits

import rego.v1

deployment(containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": containers}}},
}

test_no_resources_points_at_container if {
	results := warn with input as deployment([{"name": "app"}])
	results == {{
		"msg": `Deployment "web": container "app" has no memory limit; set resources.limits.memory so it cannot exhaust the node's memory`,
		"path": "spec.template.spec.containers[0]",
	}}
}

test_cpu_limit_only_points_at_limits if {
	results := warn with input as deployment([{"name": "app", "resources": {"limits": {"cpu": "1"}}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].resources.limits"}
}

test_requests_only_points_at_resources if {
	results := warn with input as deployment([{"name": "app", "resources": {"requests": {"memory": "1Gi"}}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].resources"}
}

test_memory_limit_without_cpu_limit_passes if {
	count(warn) == 0 with input as deployment([{"name": "app", "resources": {"limits": {"memory": "256Mi"}}}])
}

test_each_container_reported if {
	results := warn with input as deployment([{"name": "a"}, {"name": "b", "resources": {"limits": {"memory": "1Gi"}}}, {"name": "c"}])
	{r.path | some r in results} == {"spec.template.spec.containers[0]", "spec.template.spec.containers[2]"}
}

test_statefulset_init_container_checked if {
	sts := {"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"template": {"spec": {
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "db", "resources": {"limits": {"memory": "2Gi"}}}],
	}}}}
	results := warn with input as sts
	results == {{
		"msg": `StatefulSet "db": init container "init" has no memory limit; set resources.limits.memory so it cannot exhaust the node's memory`,
		"path": "spec.template.spec.initContainers[0]",
	}}
}
