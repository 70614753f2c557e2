package gitops.change.builtin.limits_removed

import rego.v1

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [object.union({"name": "app", "image": "web:1"}, resources)]}}},
}

change(before, after) := {"operation": "update", "before": deployment(before), "after": deployment(after)}

limits := {"resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "100m"}}}

test_all_limits_removed_warns_at_resources if {
	warn == {{
		"msg": `Deployment "web": container "app" no longer sets resources.limits cpu, memory, which it had before this change`,
		"path": "spec.template.spec.containers[0].resources",
	}} with input as change(limits, {"resources": {"requests": {"cpu": "100m"}}})
}

test_one_limit_removed_points_at_limits if {
	results := warn with input as change(limits, {"resources": {"limits": {"cpu": "1"}}})
	{[r.path, r.msg] | some r in results} == {[
		"spec.template.spec.containers[0].resources.limits",
		`Deployment "web": container "app" no longer sets resources.limits memory, which it had before this change`,
	]}
}

test_changed_limit_values_pass if {
	count(warn) == 0 with input as change(limits, {"resources": {"limits": {"cpu": "2", "memory": "1Gi"}}})
}

test_new_container_without_limits_passes if {
	before := deployment(limits)
	after := json.patch(before, [{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "sidecar"}}])
	count(warn) == 0 with input as {"operation": "update", "before": before, "after": after}
}
