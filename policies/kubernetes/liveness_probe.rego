# METADATA
# title: Long-running containers should have a liveness probe
# description: >-
#   Without a liveness probe the kubelet only restarts a container when its
#   process exits; a deadlocked or wedged process keeps its pod Running and
#   serving errors until someone notices.
#   Only long-running workloads are checked: Jobs and CronJobs run to
#   completion, and init containers finish before the pod starts.
# custom:
#   id: liveness-probe
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: none
#   remediation: Add a livenessProbe (httpGet, tcpSocket, grpc or exec) that fails only when a restart would help.
package gitops.builtin.liveness_probe

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	k8s.kind in k8s.long_running_kinds
	some c in k8s.containers
	c.field == "containers"
	container := c.container
	not k8s.has_field(container, ["livenessProbe"])
	result := {
		"msg": sprintf("%s: %s has no livenessProbe; add one so the kubelet restarts it when it hangs", [k8s.object_label, c.label]),
		"path": c.path,
	}
}
