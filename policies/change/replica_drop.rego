# METADATA
# title: Replicas should not drop by more than half at once
# description: >-
#   Cutting replicas by more than half in one change moves the whole load onto
#   the few pods that remain. It is often a mistake (a value copied from
#   another environment) and, when intended, is safer done in steps.
# custom:
#   id: change-replica-drop
#   severity: warning
#   pss: none
#   remediation: Check that the remaining replicas carry the load, or lower spec.replicas in steps.
package gitops.change.builtin.replica_drop

import rego.v1

import data.gitops.lib.change as lib

warn contains result if {
	lib.is_update
	before := input.before.spec.replicas
	after := input.after.spec.replicas
	is_number(before)
	is_number(after)
	after * 2 < before
	result := {
		"msg": sprintf("%s: spec.replicas drops from %d to %d, more than half; check the remaining pods can carry the load", [
			lib.object_label, before, after,
		]),
		"path": "spec.replicas",
	}
}
