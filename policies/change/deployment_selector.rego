# METADATA
# title: A Deployment's selector cannot change
# description: >-
#   spec.selector is immutable in apps/v1: the API server rejects the apply, so
#   the reconciler stays out of sync until the Deployment is recreated.
# custom:
#   id: change-deployment-selector
#   severity: error
#   pss: none
#   remediation: Revert spec.selector, or create the Deployment under a new name and delete the old one.
package gitops.change.builtin.deployment_selector

import rego.v1

import data.gitops.lib.change as lib

deny contains result if {
	lib.is_update
	input.after.kind == "Deployment"
	lib.api_group(input.after) == "apps"
	object.get(input.before, ["spec", "selector"], null) != object.get(input.after, ["spec", "selector"], null)
	result := {
		"msg": sprintf("%s: spec.selector changed, but it is immutable; the API server would reject the apply", [
			lib.object_label,
		]),
		"path": path,
	}
}

path := "spec.selector" if {
	object.get(input.after, ["spec", "selector"], null) != null
} else := "spec"
