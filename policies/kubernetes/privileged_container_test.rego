package gitops.builtin.privileged_container

import rego.v1

daemonset(containers) := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "agent"},
	"spec": {"template": {"spec": {"containers": containers}}},
}

test_privileged_denied_with_suggestion if {
	results := deny with input as daemonset([{"name": "agent", "securityContext": {"privileged": true}}])
	results == {{
		"msg": `DaemonSet "agent": container "agent" runs privileged; set securityContext.privileged to false and add only the capabilities it needs`,
		"path": "spec.template.spec.containers[0].securityContext.privileged",
		"suggestion": {"path": "spec.template.spec.containers[0].securityContext", "set": {"privileged": false}},
	}}
}

test_privileged_false_and_absent_pass if {
	count(deny) == 0 with input as daemonset([{"name": "a", "securityContext": {"privileged": false}}, {"name": "b"}])
}

test_init_container_in_cronjob_denied if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "securityContext": {"privileged": true}}],
		"containers": [{"name": "run"}],
	}}}}}}
	results := deny with input as cronjob
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.initContainers[0].securityContext.privileged"}
}

test_string_true_is_not_privileged if {
	# "true" as a string is a schema error, reported by the schema stage.
	count(deny) == 0 with input as daemonset([{"name": "a", "securityContext": {"privileged": "true"}}])
}
