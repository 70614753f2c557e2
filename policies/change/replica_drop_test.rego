package gitops.change.builtin.replica_drop

import rego.v1

scaled(before, after) := {
	"operation": "update",
	"before": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": before}},
	"after": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": after}},
}

test_drop_by_more_than_half_warns if {
	warn == {{
		"msg": `Deployment "web": spec.replicas drops from 10 to 4, more than half; check the remaining pods can carry the load`,
		"path": "spec.replicas",
	}} with input as scaled(10, 4)
}

test_drop_by_exactly_half_passes if {
	count(warn) == 0 with input as scaled(4, 2)
}

test_scale_to_zero_warns if {
	count(warn) == 1 with input as scaled(1, 0)
}

test_scale_up_passes if {
	count(warn) == 0 with input as scaled(2, 6)
}

test_replicas_removed_is_not_compared if {
	change := json.patch(scaled(10, 1), [{"op": "remove", "path": "/after/spec/replicas"}])
	count(warn) == 0 with input as change
}
