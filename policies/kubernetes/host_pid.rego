# METADATA
# title: Pods must not share the host process namespace
# description: >-
#   With hostPID a container sees every process on the node and, as root, can
#   signal them, trace them or read their environment and secrets.
# custom:
#   id: host-pid
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove hostPID (or set it to false).
package gitops.builtin.host_pid

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	k8s.pod_spec.hostPID == true
	result := {
		"msg": sprintf("%s shares the host process namespace (hostPID: true); remove hostPID or set it to false", [k8s.object_label]),
		"path": sprintf("%s.hostPID", [k8s.pod_spec_path]),
		"suggestion": {"path": k8s.pod_spec_path, "set": {"hostPID": false}},
	}
}
