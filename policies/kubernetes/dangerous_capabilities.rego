# METADATA
# title: Containers must not add dangerous Linux capabilities
# description: >-
#   Capabilities such as SYS_ADMIN, NET_ADMIN or SYS_PTRACE give a container
#   near-root power over the node's kernel, network or other processes; ALL
#   adds every one of them.
# custom:
#   id: dangerous-capabilities
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   remediation: Remove the capability from securityContext.capabilities.add; drop ALL and add back only narrow ones such as NET_BIND_SERVICE.
package gitops.builtin.dangerous_capabilities

import rego.v1

import data.gitops.lib.kubernetes as k8s

# The Pod Security "baseline" profile allows a few capabilities (CHOWN,
# DAC_OVERRIDE, NET_BIND_SERVICE, SETUID, ...); these are the ones it does not
# and that are known escalation paths.
dangerous := {
	"ALL",
	"BPF",
	"DAC_READ_SEARCH",
	"LINUX_IMMUTABLE",
	"MAC_ADMIN",
	"MAC_OVERRIDE",
	"NET_ADMIN",
	"NET_RAW",
	"PERFMON",
	"SYS_ADMIN",
	"SYS_BOOT",
	"SYS_MODULE",
	"SYS_PTRACE",
	"SYS_RAWIO",
	"SYS_TIME",
	"SYSLOG",
}

deny contains result if {
	some c in k8s.containers
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some j, capability in added
	is_string(capability)
	normalized(capability) in dangerous
	result := {
		"msg": sprintf("%s: %s adds the %s capability; remove it from securityContext.capabilities.add", [
			k8s.object_label, c.label, capability,
		]),
		"path": sprintf("%s.securityContext.capabilities.add[%d]", [c.path, j]),
	}
}

# The kernel name (CAP_SYS_ADMIN) and the lower-case spelling mean the same.
normalized(capability) := trim_prefix(upper(capability), "CAP_")
