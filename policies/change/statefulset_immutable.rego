# METADATA
# title: A StatefulSet's selector, volumeClaimTemplates and serviceName cannot change
# description: >-
#   The API server rejects updates to these StatefulSet fields, so the
#   reconciler's apply fails and the StatefulSet stays on its old spec until
#   someone deletes and recreates it.
# custom:
#   id: change-statefulset-immutable
#   severity: error
#   pss: none
#   remediation: >-
#     Revert the field, or plan a replacement: delete the StatefulSet with
#     --cascade=orphan and let the reconciler recreate it (volumes are kept).
package gitops.change.builtin.statefulset_immutable

import rego.v1

import data.gitops.lib.change as lib

immutable_fields := ["selector", "volumeClaimTemplates", "serviceName"]

deny contains result if {
	lib.is_update
	input.after.kind == "StatefulSet"
	lib.api_group(input.after) == "apps"
	some field in immutable_fields
	before := object.get(input.before, ["spec", field], null)
	after := object.get(input.after, ["spec", field], null)
	before != after
	result := {
		"msg": sprintf("%s: spec.%s changed, but it is immutable; the API server would reject the apply", [
			lib.object_label, field,
		]),
		"path": path_of(field),
	}
}

path_of(field) := sprintf("spec.%s", [field]) if {
	object.get(input.after, ["spec", field], null) != null
} else := "spec"
