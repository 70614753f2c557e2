# METADATA
# title: Containers must set allowPrivilegeEscalation to false
# description: >-
#   Unless it is explicitly false, a process in the container can gain more
#   privileges than its parent (setuid binaries, file capabilities), which
#   turns many application bugs into root on the container.
# custom:
#   id: privilege-escalation
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: restricted
#   remediation: Set securityContext.allowPrivilegeEscalation to false on every container.
package gitops.builtin.privilege_escalation

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	some c in k8s.containers
	object.get(c.container, ["securityContext", "allowPrivilegeEscalation"], null) != false
	result := {
		"msg": sprintf("%s: %s does not set securityContext.allowPrivilegeEscalation to false; set it to false", [
			k8s.object_label, c.label,
		]),
		"path": k8s.nearest_path(c.path, c.container, ["securityContext", "allowPrivilegeEscalation"]),
		"suggestion": {"path": sprintf("%s.securityContext", [c.path]), "set": {"allowPrivilegeEscalation": false}},
	}
}
