package gitops.builtin.run_as_non_root

import rego.v1

deployment(pod_security, containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": object.union({"containers": containers}, pod_security)}},
}

test_nothing_set_points_at_container if {
	results := deny with input as deployment({}, [{"name": "app"}])
	results == {{
		"msg": `Deployment "web": container "app" may run as root; set securityContext.runAsNonRoot to true`,
		"path": "spec.template.spec.containers[0]",
		"suggestion": {"path": "spec.template.spec.containers[0].securityContext", "set": {"runAsNonRoot": true}},
	}}
}

test_pod_level_true_passes if {
	count(deny) == 0 with input as deployment({"securityContext": {"runAsNonRoot": true}}, [{"name": "a"}, {"name": "b"}])
}

test_container_level_true_passes if {
	count(deny) == 0 with input as deployment({}, [{"name": "a", "securityContext": {"runAsNonRoot": true, "runAsUser": 1000}}])
}

test_container_false_overrides_pod_true if {
	results := deny with input as deployment({"securityContext": {"runAsNonRoot": true}}, [{"name": "a", "securityContext": {"runAsNonRoot": false}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].securityContext.runAsNonRoot"}
}

test_pod_false_points_at_pod_and_fixes_pod if {
	results := deny with input as deployment({"securityContext": {"runAsNonRoot": false}}, [{"name": "a"}])
	count(results) == 1
	some r in results
	r.path == "spec.template.spec.securityContext.runAsNonRoot"
	r.suggestion == {"path": "spec.template.spec.securityContext", "set": {"runAsNonRoot": true}}
}

test_run_as_user_zero_denied_even_with_non_root if {
	results := deny with input as deployment({"securityContext": {"runAsNonRoot": true, "runAsUser": 0}}, [{"name": "a"}])
	results == {{
		"msg": `Deployment "web": container "a" runs as root (runAsUser: 0); use a non-zero UID`,
		"path": "spec.template.spec.securityContext.runAsUser",
	}}
}

test_container_run_as_user_overrides_pod_zero if {
	count(deny) == 0 with input as deployment(
		{"securityContext": {"runAsNonRoot": true, "runAsUser": 0}},
		[{"name": "a", "securityContext": {"runAsUser": 1000}}],
	)
}

test_container_run_as_user_zero_points_at_container if {
	results := deny with input as deployment({"securityContext": {"runAsNonRoot": true}}, [{"name": "a", "securityContext": {"runAsUser": 0}}])
	{r.path | some r in results} == {"spec.template.spec.containers[0].securityContext.runAsUser"}
}

test_init_container_in_cronjob_checked if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "securityContext": {"allowPrivilegeEscalation": false}}],
		"containers": [{"name": "run", "securityContext": {"runAsNonRoot": true}}],
	}}}}}}
	results := deny with input as cronjob
	results == {{
		"msg": `CronJob "c": init container "setup" may run as root; set securityContext.runAsNonRoot to true`,
		"path": "spec.jobTemplate.spec.template.spec.initContainers[0].securityContext",
		"suggestion": {"path": "spec.jobTemplate.spec.template.spec.initContainers[0].securityContext", "set": {"runAsNonRoot": true}},
	}}
}
