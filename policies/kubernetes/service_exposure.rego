# METADATA
# title: Services should not be exposed with LoadBalancer or NodePort
# description: >-
#   A LoadBalancer Service gets a (usually public) address and a NodePort one
#   opens a port on every node, both bypassing the Ingress or gateway where TLS,
#   authentication and rate limits are enforced.
# custom:
#   id: service-exposure
#   kinds: [Service]
#   severity: warning
#   pss: none
#   remediation: Use type ClusterIP behind an Ingress or Gateway; if direct exposure is intended, waive this finding.
package gitops.builtin.service_exposure

import rego.v1

import data.gitops.lib.kubernetes as k8s

exposed_types := {"LoadBalancer", "NodePort"}

warn contains result if {
	k8s.kind == "Service"
	input.spec.type in exposed_types
	result := {
		"msg": sprintf("%s is of type %s and reachable from outside the cluster; use ClusterIP behind an Ingress or Gateway", [
			k8s.object_label, input.spec.type,
		]),
		"path": "spec.type",
	}
}
