package gitops.change.builtin.deployment_selector

import rego.v1

deployment(labels) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"selector": {"matchLabels": labels}, "replicas": 2},
}

test_selector_change_denied if {
	change := {"operation": "update", "before": deployment({"app": "web"}), "after": deployment({"app": "web", "tier": "front"})}
	deny == {{
		"msg": `Deployment "web": spec.selector changed, but it is immutable; the API server would reject the apply`,
		"path": "spec.selector",
	}} with input as change
}

test_same_selector_allowed if {
	before := deployment({"app": "web"})
	after := json.patch(before, [{"op": "replace", "path": "/spec/replicas", "value": 3}])
	count(deny) == 0 with input as {"operation": "update", "before": before, "after": after}
}

test_statefulset_not_judged_here if {
	before := object.union(deployment({"app": "a"}), {"kind": "StatefulSet"})
	after := object.union(deployment({"app": "b"}), {"kind": "StatefulSet"})
	count(deny) == 0 with input as {"operation": "update", "before": before, "after": after}
}
