# METADATA
# title: Containers should request CPU and memory
# description: >-
#   The scheduler places pods by their requests. Without them a pod can land on
#   a node that has no room for it, gets the BestEffort QoS class and is the
#   first to be evicted under pressure. A limit without a request counts as the
#   request, so that case passes.
# custom:
#   id: resources-requests
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: none
#   remediation: Set resources.requests.cpu and resources.requests.memory to what the container needs at steady state.
package gitops.builtin.resources_requests

import rego.v1

import data.gitops.lib.kubernetes as k8s

# Ephemeral (debug) containers cannot have resources.
checked_fields := {"initContainers", "containers"}

warn contains result if {
	some c in k8s.containers
	c.field in checked_fields
	container := c.container
	missing := [r | some r in ["cpu", "memory"]; not has_request(container, r)]
	count(missing) > 0
	result := {
		"msg": sprintf("%s: %s has no %s request; set resources.requests so the scheduler can place it", [
			k8s.object_label, c.label, concat(" or ", missing),
		]),
		"path": k8s.nearest_path(c.path, c.container, ["resources", "requests"]),
	}
}

has_request(container, resource) if k8s.has_field(container, ["resources", "requests", resource])

# Kubernetes defaults a missing request to the limit.
has_request(container, resource) if k8s.has_field(container, ["resources", "limits", resource])
