# METADATA
# title: Containers should have a memory limit
# description: >-
#   Memory is not compressible: a container without a memory limit can use up
#   the node's memory and get other pods OOM-killed or evicted. A CPU limit is
#   deliberately not required: CPU is compressible, so an over-eager container
#   is only slowed down, while a CPU limit throttles the container even when
#   the node has idle CPU (CPU requests already guarantee a fair share).
# custom:
#   id: resources-limits
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: none
#   remediation: Set resources.limits.memory (usually equal to or a little above resources.requests.memory).
package gitops.builtin.resources_limits

import rego.v1

import data.gitops.lib.kubernetes as k8s

# Ephemeral (debug) containers cannot have resources.
checked_fields := {"initContainers", "containers"}

warn contains result if {
	some c in k8s.containers
	c.field in checked_fields
	container := c.container
	not k8s.has_field(container, ["resources", "limits", "memory"])
	result := {
		"msg": sprintf("%s: %s has no memory limit; set resources.limits.memory so it cannot exhaust the node's memory", [
			k8s.object_label, c.label,
		]),
		"path": k8s.nearest_path(c.path, c.container, ["resources", "limits"]),
	}
}
