package gitops.builtin.rbac_wildcard

import rego.v1

role(kind, rules) := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "r", "namespace": "app"}, "rules": rules}

test_wildcard_verb_denied if {
	results := deny with input as role("Role", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "*"]}])
	results == {{
		"msg": `Role "r": rule 0 grants "*" in verbs; list the exact verbs needed`,
		"path": "rules[0].verbs[1]",
	}}
}

test_every_wildcard_reported_in_cluster_role if {
	results := deny with input as role("ClusterRole", [
		{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
		{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
	])
	{r.path | some r in results} == {"rules[1].apiGroups[0]", "rules[1].resources[0]", "rules[1].verbs[0]"}
}

test_specific_rules_pass if {
	count(deny) == 0 with input as role("ClusterRole", [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list", "watch"]}])
}

test_aggregated_cluster_role_without_rules_passes if {
	count(deny) == 0 with input as {"kind": "ClusterRole", "metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}}
}

test_other_kinds_ignored if {
	count(deny) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c"}, "rules": [{"verbs": ["*"]}]}
}
