# METADATA
# title: Containers must not add dangerous Linux capabilities
# description: >-
#   Capabilities such as SYS_ADMIN, NET_ADMIN or SYS_PTRACE give a container
#   near-root power over the node's kernel, network or other processes; ALL
#   adds every one of them. Pod Security baseline allows only its default set
#   (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD,
#   NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).
# custom:
#   id: dangerous-capabilities
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove the capability from securityContext.capabilities.add; drop ALL and add back only narrow ones such as NET_BIND_SERVICE.
package gitops.builtin.dangerous_capabilities

import rego.v1

import data.gitops.lib.kubernetes as k8s

# Pod Security Standards, baseline "Capabilities": adding anything beyond this
# default set is forbidden (compared as written, like Pod Security admission).
baseline_allowed := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

deny contains result if {
	some c in k8s.containers
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some j, capability in added
	is_string(capability)
	not capability in baseline_allowed
	result := {
		"msg": sprintf("%s: %s adds the %s capability; remove it from securityContext.capabilities.add", [
			k8s.object_label, c.label, capability,
		]),
		"path": sprintf("%s.securityContext.capabilities.add[%d]", [c.path, j]),
	}
}
