package gitops.builtin.host_network

import rego.v1

test_deployment_denied if {
	results := deny with input as {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "a"}]}}}}
	results == {{
		"msg": `Deployment "web" uses the host network (hostNetwork: true); remove hostNetwork or set it to false`,
		"path": "spec.template.spec.hostNetwork",
		"suggestion": {"path": "spec.template.spec", "set": {"hostNetwork": false}},
	}}
}

test_pod_denied_at_spec if {
	results := deny with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": true, "containers": []}}
	{r.path | some r in results} == {"spec.hostNetwork"}
}

test_cronjob_denied_at_nested_spec if {
	results := deny with input as {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostNetwork": true}}}}}}
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.hostNetwork"}
}

test_false_or_absent_passes if {
	count(deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwork": false}}
	count(deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
}

test_non_workload_ignored if {
	count(deny) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "x"}, "spec": {"hostNetwork": true}}
}
