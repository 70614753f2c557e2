package gitops.builtin.privilege_escalation

import rego.v1

deployment(containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": containers}}},
}

test_missing_field_points_at_container if {
	results := deny with input as deployment([{"name": "app"}])
	results == {{
		"msg": `Deployment "web": container "app" does not set securityContext.allowPrivilegeEscalation to false; set it to false`,
		"path": "spec.template.spec.containers[0]",
		"suggestion": {"path": "spec.template.spec.containers[0].securityContext", "set": {"allowPrivilegeEscalation": false}},
	}}
}

test_missing_field_points_at_security_context if {
	results := deny with input as deployment([{"name": "app", "securityContext": {"runAsNonRoot": true}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].securityContext"}
}

test_true_points_at_field if {
	results := deny with input as deployment([{"name": "app", "securityContext": {"allowPrivilegeEscalation": true}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"}
}

test_false_passes if {
	count(deny) == 0 with input as deployment([{"name": "app", "securityContext": {"allowPrivilegeEscalation": false}}])
}

test_init_and_ephemeral_containers_checked if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": false}}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	results := deny with input as pod
	{r.path | some r in results} == {"spec.initContainers[0]", "spec.ephemeralContainers[0]"}
}
