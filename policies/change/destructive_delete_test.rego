package gitops.change.builtin.destructive_delete

import rego.v1

deleted(obj) := {"operation": "delete", "before": obj, "after": null, "file": "x.yaml"}

test_namespace_delete_denied if {
	results := deny with input as deleted({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
	results == {{
		"msg": `deleting Namespace "shop" removes every object in the namespace, including its PersistentVolumeClaims and Secrets; if intended, waive rule change-destructive-delete with an exception in .gitops-bot.yaml`,
		"path": "metadata.name",
	}}
}

test_pvc_pv_and_crd_delete_denied if {
	pvc := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "db"}}
	pv := {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"}}
	crd := {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"}}
	count(deny) == 1 with input as deleted(pvc)
	count(deny) == 1 with input as deleted(pv)
	count(deny) == 1 with input as deleted(crd)
}

test_other_deletes_allowed if {
	count(deny) == 0 with input as deleted({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}})
}

test_same_kind_in_another_group_allowed if {
	count(deny) == 0 with input as deleted({"apiVersion": "example.com/v1", "kind": "Namespace", "metadata": {"name": "x"}})
}

test_update_of_namespace_allowed if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
	count(deny) == 0 with input as {"operation": "update", "before": ns, "after": ns}
}
