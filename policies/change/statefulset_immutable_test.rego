package gitops.change.builtin.statefulset_immutable

import rego.v1

sts := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "db"},
	"spec": {
		"serviceName": "db",
		"selector": {"matchLabels": {"app": "db"}},
		"replicas": 3,
		"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}}}],
	},
}

update(patch) := {"operation": "update", "before": sts, "after": json.patch(sts, patch)}

test_volume_claim_template_change_denied if {
	change := update([{"op": "replace", "path": "/spec/volumeClaimTemplates/0/spec/resources/requests/storage", "value": "20Gi"}])
	deny == {{
		"msg": `StatefulSet "db": spec.volumeClaimTemplates changed, but it is immutable; the API server would reject the apply`,
		"path": "spec.volumeClaimTemplates",
	}} with input as change
}

test_selector_and_service_name_denied_each if {
	change := update([
		{"op": "replace", "path": "/spec/serviceName", "value": "db-headless"},
		{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "database"},
	])
	{r.path | some r in deny} == {"spec.serviceName", "spec.selector"} with input as change
}

test_removed_field_points_at_spec if {
	change := update([{"op": "remove", "path": "/spec/serviceName"}])
	{r.path | some r in deny} == {"spec"} with input as change
}

test_replicas_change_allowed if {
	count(deny) == 0 with input as update([{"op": "replace", "path": "/spec/replicas", "value": 5}])
}

test_create_allowed if {
	count(deny) == 0 with input as {"operation": "create", "before": null, "after": sts}
}
