# METADATA
# title: Containers must not run privileged
# description: >-
#   A privileged container has every capability and all host devices; a
#   compromise of it is a compromise of the node and everything running there.
# custom:
#   id: privileged-container
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove securityContext.privileged (or set it to false) and add only the specific capabilities the container needs.
package gitops.builtin.privileged_container

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	some c in k8s.containers
	c.container.securityContext.privileged == true
	result := {
		"msg": sprintf("%s: %s runs privileged; set securityContext.privileged to false and add only the capabilities it needs", [
			k8s.object_label, c.label,
		]),
		"path": sprintf("%s.securityContext.privileged", [c.path]),
		"suggestion": {"path": sprintf("%s.securityContext", [c.path]), "set": {"privileged": false}},
	}
}
