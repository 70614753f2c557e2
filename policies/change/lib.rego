# Shared helpers for the built-in change rules (packages gitops.change.builtin.*).
# `input` is one change: {"operation": "create"|"update"|"delete", "before", "after",
# "file", "pull_request"}; `before` is null for creates, `after` for deletes.
# Object helpers of gitops.lib.kubernetes are reused with `with input as <object>`.
package gitops.lib.change

import rego.v1

import data.gitops.lib.kubernetes as k8s

is_update if {
	input.operation == "update"
	is_object(input.before)
	is_object(input.after)
}

# How messages name the changed object, e.g. `Deployment "web"`.
object_label := label if {
	is_object(input.after)
	label := k8s.object_label with input as input.after
} else := label if {
	label := k8s.object_label with input as input.before
}

api_group(obj) := g if {
	v := object.get(obj, "apiVersion", "")
	is_string(v)
	contains(v, "/")
	parts := split(v, "/")
	g := concat("/", array.slice(parts, 0, count(parts) - 1))
} else := ""

# Containers present on both sides, matched by list (containers, initContainers, ...)
# and name: {"before", "after", "path", "label"}; `path` is the after side's item path.
container_pairs contains pair if {
	is_update
	befores := k8s.containers with input as input.before
	afters := k8s.containers with input as input.after
	some a in afters
	some b in befores
	a.field == b.field
	a.name == b.name
	pair := {"before": b.container, "after": a.container, "path": a.path, "label": a.label}
}
