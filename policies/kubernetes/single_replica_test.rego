package gitops.builtin.single_replica

import rego.v1

deployment(spec) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec}

template := {"spec": {"containers": [{"name": "a"}]}}

test_one_replica_noticed_at_replicas if {
	results := warn with input as deployment({"replicas": 1, "template": template})
	results == {{
		"msg": `Deployment "web" runs a single replica; set spec.replicas to 2 or more unless an autoscaler manages it`,
		"path": "spec.replicas",
	}}
}

test_absent_replicas_means_one if {
	results := warn with input as deployment({"template": template})
	{r.path | some r in results} == {"spec"}
}

test_several_or_zero_replicas_pass if {
	count(warn) == 0 with input as deployment({"replicas": 3, "template": template})
	count(warn) == 0 with input as deployment({"replicas": 0, "template": template})
}

test_other_kinds_ignored if {
	count(warn) == 0 with input as {"kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"replicas": 1}}
}
