# METADATA
# title: Resource limits should not be removed
# description: >-
#   A container that had limits and loses them can use up its node's memory
#   (and, for CPU, starve its neighbours). Removing a limit is rarely the fix
#   for OOM kills: raising it is.
# custom:
#   id: change-limits-removed
#   severity: warning
#   pss: none
#   remediation: Keep the limit (raise it if the container needs more), or waive with a reason.
package gitops.change.builtin.limits_removed

import rego.v1

import data.gitops.lib.change as lib
import data.gitops.lib.kubernetes as k8s

warn contains result if {
	some pair in lib.container_pairs
	before := object.get(pair.before, ["resources", "limits"], {})
	is_object(before)
	after := limits_of(pair.after)
	after_names := object.keys(after)
	removed := sort([name | some name, _ in before; not name in after_names])
	count(removed) > 0
	result := {
		"msg": sprintf("%s: %s no longer sets resources.limits %s, which it had before this change", [
			lib.object_label, pair.label, concat(", ", removed),
		]),
		"path": k8s.nearest_path(pair.path, pair.after, ["resources", "limits"]),
	}
}

limits_of(container) := limits if {
	limits := object.get(container, ["resources", "limits"], {})
	is_object(limits)
} else := {}
