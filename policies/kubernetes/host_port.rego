# METADATA
# title: Containers should not bind host ports
# description: >-
#   A hostPort opens the port on the node's address, bypassing Services and
#   NetworkPolicies, and limits the pod to one replica per node (the second
#   one stays Pending).
# custom:
#   id: host-port
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove hostPort and expose the container through a Service (or an Ingress/Gateway).
package gitops.builtin.host_port

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	some c in k8s.containers
	ports := c.container.ports
	is_array(ports)
	some k, port in ports
	is_number(port.hostPort)
	port.hostPort != 0
	result := {
		"msg": sprintf("%s: %s binds host port %v; remove hostPort and expose it through a Service", [
			k8s.object_label, c.label, port.hostPort,
		]),
		"path": sprintf("%s.ports[%d].hostPort", [c.path, k]),
	}
}
