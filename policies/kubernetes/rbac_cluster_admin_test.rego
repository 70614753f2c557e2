package gitops.builtin.rbac_cluster_admin

import rego.v1

binding(kind, role_kind, role_name) := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": "b"},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
	"subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}],
}

test_cluster_role_binding_denied if {
	results := deny with input as binding("ClusterRoleBinding", "ClusterRole", "cluster-admin")
	results == {{
		"msg": `ClusterRoleBinding "b" binds the cluster-admin ClusterRole; bind a role with only the permissions needed`,
		"path": "roleRef.name",
	}}
}

test_role_binding_to_cluster_admin_denied if {
	count(deny) == 1 with input as binding("RoleBinding", "ClusterRole", "cluster-admin")
}

test_role_named_cluster_admin_is_not_the_cluster_role if {
	count(deny) == 0 with input as binding("RoleBinding", "Role", "cluster-admin")
}

test_other_roles_pass if {
	count(deny) == 0 with input as binding("ClusterRoleBinding", "ClusterRole", "view")
	count(deny) == 0 with input as binding("RoleBinding", "ClusterRole", "admin")
}
