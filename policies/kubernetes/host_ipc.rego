# METADATA
# title: Pods must not share the host IPC namespace
# description: >-
#   With hostIPC a container can read and write the shared memory and message
#   queues of every process on the node.
# custom:
#   id: host-ipc
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove hostIPC (or set it to false).
package gitops.builtin.host_ipc

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	k8s.pod_spec.hostIPC == true
	result := {
		"msg": sprintf("%s shares the host IPC namespace (hostIPC: true); remove hostIPC or set it to false", [k8s.object_label]),
		"path": sprintf("%s.hostIPC", [k8s.pod_spec_path]),
		"suggestion": {"path": k8s.pod_spec_path, "set": {"hostIPC": false}},
	}
}
