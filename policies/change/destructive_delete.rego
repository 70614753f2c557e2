# METADATA
# title: Deleting a Namespace, volume or CRD destroys data
# description: >-
#   When the reconciler prunes a deleted Namespace it deletes everything in it;
#   a deleted PersistentVolumeClaim usually takes its volume and data with it;
#   a deleted CustomResourceDefinition deletes every custom resource of its type.
#   None of this can be undone by reverting the commit.
# custom:
#   id: change-destructive-delete
#   severity: error
#   pss: none
#   remediation: >-
#     If the deletion is intended, back up the data, then waive it with an exception
#     in .gitops-bot.yaml (rule change-destructive-delete, resources kind and name, a reason)
#     or by a policy of your own in package gitops.change; otherwise restore the object.
package gitops.change.builtin.destructive_delete

import rego.v1

import data.gitops.lib.change as lib

# "<api group>/<kind>" -> what is lost with the object.
losses := {
	"/Namespace": "every object in the namespace, including its PersistentVolumeClaims and Secrets",
	"/PersistentVolumeClaim": "the claim and, with the usual Delete reclaim policy, its volume and data",
	"/PersistentVolume": "the volume and, with a Delete reclaim policy, the data on it",
	"apiextensions.k8s.io/CustomResourceDefinition": "every custom resource of this type in the cluster",
}

deny contains result if {
	input.operation == "delete"
	is_object(input.before)
	lost := losses[sprintf("%s/%s", [lib.api_group(input.before), input.before.kind])]
	result := {
		"msg": sprintf(
			"deleting %s removes %s; if intended, waive rule change-destructive-delete with an exception in .gitops-bot.yaml",
			[lib.object_label, lost],
		),
		"path": "metadata.name",
	}
}
