package gitops.builtin.host_pid

import rego.v1

test_deployment_denied if {
	results := deny with input as {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"hostPID": true, "containers": [{"name": "a"}]}}}}
	results == {{
		"msg": `Deployment "web" shares the host process namespace (hostPID: true); remove hostPID or set it to false`,
		"path": "spec.template.spec.hostPID",
		"suggestion": {"path": "spec.template.spec", "set": {"hostPID": false}},
	}}
}

test_pod_denied_at_spec if {
	results := deny with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostPID": true, "containers": []}}
	{r.path | some r in results} == {"spec.hostPID"}
}

test_cronjob_denied_at_nested_spec if {
	results := deny with input as {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true}}}}}}
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.hostPID"}
}

test_false_or_absent_passes if {
	count(deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostPID": false}}
	count(deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
}

test_non_workload_ignored if {
	count(deny) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "x"}, "spec": {"hostPID": true}}
}
