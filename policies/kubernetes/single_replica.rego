# METADATA
# title: Deployments should run more than one replica
# description: >-
#   With one replica every node drain, eviction or rollout that goes wrong is
#   downtime. Leaving replicas unset means 1. This is only a notice: a
#   HorizontalPodAutoscaler may manage the count, and some workloads must be
#   singletons.
# custom:
#   id: single-replica
#   kinds: [Deployment]
#   severity: notice
#   pss: none
#   remediation: Set spec.replicas to 2 or more (with a PodDisruptionBudget), or let a HorizontalPodAutoscaler manage it.
package gitops.builtin.single_replica

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	k8s.kind == "Deployment"
	is_object(input.spec)
	object.get(input.spec, "replicas", 1) == 1
	result := {
		"msg": sprintf("%s runs a single replica; set spec.replicas to 2 or more unless an autoscaler manages it", [k8s.object_label]),
		"path": k8s.nearest_path("", input, ["spec", "replicas"]),
	}
}
