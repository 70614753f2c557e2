# METADATA
# title: Bindings must not grant cluster-admin
# description: >-
#   cluster-admin can do anything to any object in any namespace, including
#   reading every Secret and granting itself more; a leaked token or a
#   compromised pod bound to it owns the cluster.
# custom:
#   id: rbac-cluster-admin
#   kinds: [RoleBinding, ClusterRoleBinding]
#   severity: error
#   pss: none
#   remediation: Bind a Role or ClusterRole that lists only the permissions the subject needs (the built-in admin, edit or view roles are a start).
package gitops.builtin.rbac_cluster_admin

import rego.v1

import data.gitops.lib.kubernetes as k8s

binding_kinds := {"RoleBinding", "ClusterRoleBinding"}

deny contains result if {
	k8s.kind in binding_kinds
	input.roleRef.name == "cluster-admin"
	object.get(input.roleRef, "kind", "ClusterRole") == "ClusterRole"
	result := {
		"msg": sprintf("%s binds the cluster-admin ClusterRole; bind a role with only the permissions needed", [k8s.object_label]),
		"path": "roleRef.name",
	}
}
