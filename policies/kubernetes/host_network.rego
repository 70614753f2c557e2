# METADATA
# title: Pods must not use the host network
# description: >-
#   A pod on the host network shares the node's network namespace: it can bind any
#   host port, reach services listening on the node's loopback and bypasses
#   NetworkPolicies.
# custom:
#   id: host-network
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove hostNetwork (or set it to false) and expose the pod through a Service.
package gitops.builtin.host_network

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	k8s.pod_spec.hostNetwork == true
	result := {
		"msg": sprintf("%s uses the host network (hostNetwork: true); remove hostNetwork or set it to false", [k8s.object_label]),
		"path": sprintf("%s.hostNetwork", [k8s.pod_spec_path]),
		"suggestion": {"path": k8s.pod_spec_path, "set": {"hostNetwork": false}},
	}
}
