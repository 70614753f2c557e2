package gitops.builtin.missing_namespace

import rego.v1

test_namespaced_kind_without_namespace_noticed if {
	results := warn with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}}
	results == {{
		"msg": `ConfigMap "app" has no metadata.namespace; set it so it cannot land in a default namespace`,
		"path": "metadata",
	}}
}

test_empty_namespace_points_at_field if {
	results := warn with input as {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ""}}
	{r.path | some r in results} == {"metadata.namespace"}
}

test_namespace_set_passes if {
	count(warn) == 0 with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "prod"}}
}

test_cluster_scoped_kinds_exempt if {
	every kind in ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService", "Node", "CSIDriver", "RuntimeClass"] {
		count(warn) == 0 with input as {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}
	}
}

test_custom_resource_without_namespace_noticed if {
	count(warn) == 1 with input as {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "tls"}}
}

test_kustomization_file_exempt if {
	count(warn) == 0 with input as {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]}
}

test_flux_kustomization_is_namespaced if {
	count(warn) == 1 with input as {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "apps"}}
}
