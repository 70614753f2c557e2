# METADATA
# title: Namespaced objects should set metadata.namespace
# description: >-
#   Without a namespace the object lands in whatever namespace the reconciler
#   or kubectl context defaults to, so the same manifest can deploy to
#   different places. Cluster-scoped kinds are exempt. Only a notice: a
#   kustomization or Argo CD Application may set the namespace for the whole
#   directory.
# custom:
#   id: missing-namespace
#   severity: notice
#   pss: none
#   remediation: Set metadata.namespace (or a namespace in the kustomization that includes this file).
package gitops.builtin.missing_namespace

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	k8s.kind != ""
	not k8s.is_cluster_scoped
	not is_kustomize_config
	k8s.namespace == ""
	result := {
		"msg": sprintf("%s has no metadata.namespace; set it so it cannot land in a default namespace", [k8s.object_label]),
		"path": k8s.nearest_path("", input, ["metadata", "namespace"]),
	}
}

# kustomization.yaml and kustomize plugin configs are build inputs, not objects.
is_kustomize_config if startswith(k8s.api_version, "kustomize.config.k8s.io/")

is_kustomize_config if startswith(k8s.api_version, "builtin/")
