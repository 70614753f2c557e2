# METADATA
# title: Secrets must not be committed in plain text
# description: >-
#   Secret data is only base64-encoded: anyone who can read the repository (and
#   its history, forks and CI logs) can read the values, forever. Commit an
#   encrypted or referenced form and let the cluster produce the Secret.
#   SOPS-encrypted Secrets (with a top-level sops block) pass.
# custom:
#   id: plain-secret
#   kinds: [Secret]
#   severity: error
#   pss: none
#   remediation: Replace the Secret with a SealedSecret, an ExternalSecret, or encrypt it with SOPS; rotate any value that was committed.
package gitops.builtin.plain_secret

import rego.v1

import data.gitops.lib.kubernetes as k8s

value_fields := ["data", "stringData"]

# Never put a value (or a key, which may carry one) into the message.
deny contains result if {
	k8s.kind == "Secret"
	k8s.group == ""
	not k8s.has_field(input, ["sops"])
	some field in value_fields
	values := input[field]
	is_object(values)
	count(values) > 0
	result := {
		"msg": sprintf("%s commits %d value(s) in %s; use a SealedSecret, ExternalSecret or SOPS instead and rotate the committed values", [
			k8s.object_label, count(values), field,
		]),
		"path": field,
	}
}
