# METADATA
# title: RBAC rules must not use wildcards
# description: >-
#   A "*" in verbs, resources or apiGroups grants everything that exists now and
#   everything added later (new CRDs, new subresources such as pods/exec),
#   which quietly turns a narrow role into an admin one.
# custom:
#   id: rbac-wildcard
#   kinds: [Role, ClusterRole]
#   severity: error
#   pss: none
#   remediation: List the exact verbs, resources and API groups the subject needs.
package gitops.builtin.rbac_wildcard

import rego.v1

import data.gitops.lib.kubernetes as k8s

role_kinds := {"Role", "ClusterRole"}

checked_fields := ["verbs", "resources", "apiGroups"]

deny contains result if {
	k8s.kind in role_kinds
	rules := input.rules
	is_array(rules)
	some i, rule in rules
	some field in checked_fields
	values := rule[field]
	is_array(values)
	some j, value in values
	value == "*"
	result := {
		"msg": sprintf("%s: rule %d grants \"*\" in %s; list the exact %s needed", [k8s.object_label, i, field, field]),
		"path": sprintf("rules[%d].%s[%d]", [i, field, j]),
	}
}
