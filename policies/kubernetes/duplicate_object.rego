# METADATA
# title: Objects must be defined only once
# description: >-
#   Two manifests for the same group, kind, namespace and name fight each
#   other: the reconciler applies one and then the other (or refuses to sync),
#   and which definition wins depends on ordering nobody reviews.
# custom:
#   id: duplicate-object
#   severity: error
#   pss: none
#   remediation: Keep one definition and delete the others (or give them different names or namespaces).
package gitops.builtin.duplicate_object

import rego.v1

import data.gitops.lib.kubernetes as k8s

# Same key as the bot's inventory: "<group>/<kind>/<namespace>/<name>".
inventory_key := sprintf("%s/%s/%s/%s", [k8s.group, k8s.kind, k8s.namespace, input.metadata.name])

deny contains result if {
	definitions := data.gitops.inventory[inventory_key]
	is_array(definitions)
	count(definitions) > 1
	locations := sort([sprintf("%v:%v", [d.file, d.line]) | some d in definitions])
	result := {
		"msg": sprintf("%s%s is defined %d times (%s); keep one definition", [
			k8s.object_label, namespace_note, count(definitions), concat(", ", locations),
		]),
		"path": "metadata.name",
	}
}

namespace_note := sprintf(" in namespace %q", [k8s.namespace]) if k8s.namespace != ""

namespace_note := "" if k8s.namespace == ""
