package gitops.builtin.ingress_tls

import rego.v1

ingress(spec) := {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "app"}, "spec": spec}

rules := [{"host": "web.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]

test_missing_tls_warned_at_spec if {
	results := warn with input as ingress({"rules": rules})
	results == {{
		"msg": `Ingress "web" has no TLS; add spec.tls with its hosts and a certificate Secret`,
		"path": "spec",
	}}
}

test_empty_tls_warned_at_tls if {
	results := warn with input as ingress({"rules": rules, "tls": []})
	{r.path | some r in results} == {"spec.tls"}
}

test_tls_passes if {
	count(warn) == 0 with input as ingress({"rules": rules, "tls": [{"hosts": ["web.example.com"], "secretName": "web-tls"}]})
}

test_other_kinds_ignored if {
	count(warn) == 0 with input as {"kind": "Service", "metadata": {"name": "s"}, "spec": {}}
}
