# METADATA
# title: Containers should use a read-only root file system
# description: >-
#   A read-only root file system stops an attacker (or a bug) from replacing
#   binaries or dropping tools into the container, and makes the image the
#   single source of what runs. Only a notice: many images need a writable
#   path, which an emptyDir volume mounted there provides.
# custom:
#   id: read-only-root-filesystem
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: notice
#   pss: none
#   remediation: Set securityContext.readOnlyRootFilesystem to true and mount emptyDir volumes where the application writes (e.g. /tmp).
package gitops.builtin.read_only_root_filesystem

import rego.v1

import data.gitops.lib.kubernetes as k8s

# Ephemeral (debug) containers are short-lived by design.
checked_fields := {"initContainers", "containers"}

warn contains result if {
	some c in k8s.containers
	c.field in checked_fields
	object.get(c.container, ["securityContext", "readOnlyRootFilesystem"], null) != true
	result := {
		"msg": sprintf("%s: %s has a writable root file system; set securityContext.readOnlyRootFilesystem to true", [
			k8s.object_label, c.label,
		]),
		"path": k8s.nearest_path(c.path, c.container, ["securityContext", "readOnlyRootFilesystem"]),
	}
}
