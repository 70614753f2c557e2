# METADATA
# title: Ingresses should terminate TLS
# description: >-
#   An Ingress without a tls section serves plain HTTP: credentials, cookies
#   and data cross the network readable and modifiable by anyone on the path.
# custom:
#   id: ingress-tls
#   kinds: [Ingress]
#   severity: warning
#   pss: none
#   remediation: Add spec.tls with the hosts and a certificate Secret (cert-manager can issue it).
package gitops.builtin.ingress_tls

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	k8s.kind == "Ingress"
	not has_tls
	result := {
		"msg": sprintf("%s has no TLS; add spec.tls with its hosts and a certificate Secret", [k8s.object_label]),
		"path": k8s.nearest_path("", input, ["spec", "tls"]),
	}
}

has_tls if {
	tls := input.spec.tls
	is_array(tls)
	count(tls) > 0
}
