# Whole-library checks: a well-written Deployment gets no finding at all from
# any built-in rule (no false blocks), and a careless one trips exactly the
# rules it should.
package gitops.builtin_all_rules_test

import rego.v1

findings contains [pkg, "deny", r] if {
	some pkg
	some r in data.gitops.builtin[pkg].deny
}

findings contains [pkg, "warn", r] if {
	some pkg
	some r in data.gitops.builtin[pkg].warn
}

compliant_deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "prod"},
	"spec": {
		"replicas": 3,
		"selector": {"matchLabels": {"app": "web"}},
		"template": {
			"metadata": {"labels": {"app": "web"}},
			"spec": {
				"automountServiceAccountToken": false,
				"securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
				"initContainers": [{
					"name": "migrate",
					"image": "registry.local:5000/acme/web:1.4.2",
					"securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
					"resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}},
				}],
				"containers": [{
					"name": "web",
					"image": "ghcr.io/acme/web@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
					"ports": [{"containerPort": 8080}],
					"securityContext": {
						"allowPrivilegeEscalation": false,
						"readOnlyRootFilesystem": true,
						"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
					},
					"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "128Mi"}},
					"livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
					"readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
				}],
				"volumes": [{"name": "tmp", "emptyDir": {}}],
			},
		},
	},
}

careless_deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"hostNetwork": true,
		"containers": [{"name": "web", "image": "nginx", "securityContext": {"privileged": true}}],
	}}},
}

test_compliant_deployment_has_no_findings if {
	count(findings) == 0 with input as compliant_deployment
		with data.gitops.inventory as {"apps/Deployment/prod/web": [{"file": "apps/web.yaml", "line": 1}]}
}

test_careless_deployment_trips_expected_rules if {
	fired := {pkg | some [pkg, _, _] in findings} with input as careless_deployment
	fired == {
		"automount_service_account_token",
		"host_network",
		"image_tag",
		"liveness_probe",
		"missing_namespace",
		"privilege_escalation",
		"pod_security_restricted",
		"privileged_container",
		"read_only_root_filesystem",
		"readiness_probe",
		"resources_limits",
		"resources_requests",
		"run_as_non_root",
		"single_replica",
	}
}

test_compliant_secret_free_objects_have_no_findings if {
	count(findings) == 0 with input as {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "prod"}, "spec": {"ports": [{"port": 80}]}}
	count(findings) == 0 with input as {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}
	count(findings) == 0 with input as {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty", "namespace": "prod"}}
}
