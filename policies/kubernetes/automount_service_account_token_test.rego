package gitops.builtin.automount_service_account_token

import rego.v1

deployment(pod_spec) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": pod_spec}}}

test_default_noticed_at_pod_spec if {
	results := warn with input as deployment({"containers": [{"name": "a"}]})
	results == {{
		"msg": `Deployment "web" mounts a service account token; set automountServiceAccountToken to false unless it calls the Kubernetes API`,
		"path": "spec.template.spec",
	}}
}

test_true_noticed_at_field if {
	results := warn with input as deployment({"automountServiceAccountToken": true, "containers": [{"name": "a"}]})
	{r.path | some r in results} == {"spec.template.spec.automountServiceAccountToken"}
}

test_false_passes if {
	count(warn) == 0 with input as deployment({"automountServiceAccountToken": false, "containers": [{"name": "a"}]})
}

test_cronjob_checked_and_non_workloads_ignored if {
	results := warn with input as {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}}
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec"}
	count(warn) == 0 with input as {"kind": "ServiceAccount", "metadata": {"name": "sa"}}
}
