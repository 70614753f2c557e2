# METADATA
# title: Long-running containers should have a readiness probe
# description: >-
#   Without a readiness probe a pod receives Service traffic as soon as its
#   process starts, before it can serve, and keeps receiving it while it is
#   overloaded; rolling updates also proceed without waiting for the new pods.
#   Only long-running workloads are checked: Jobs and CronJobs run to
#   completion, and init containers finish before the pod starts.
# custom:
#   id: readiness-probe
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: none
#   remediation: Add a readinessProbe that succeeds only when the container can serve requests.
package gitops.builtin.readiness_probe

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	k8s.kind in k8s.long_running_kinds
	some c in k8s.containers
	c.field == "containers"
	container := c.container
	not k8s.has_field(container, ["readinessProbe"])
	result := {
		"msg": sprintf("%s: %s has no readinessProbe; add one so it only receives traffic when it can serve", [k8s.object_label, c.label]),
		"path": c.path,
	}
}
