package gitops.builtin.service_exposure

import rego.v1

service(spec) := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "app"}, "spec": spec}

test_load_balancer_warned if {
	results := warn with input as service({"type": "LoadBalancer", "ports": [{"port": 80}]})
	results == {{
		"msg": `Service "web" is of type LoadBalancer and reachable from outside the cluster; use ClusterIP behind an Ingress or Gateway`,
		"path": "spec.type",
	}}
}

test_node_port_warned if {
	results := warn with input as service({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})
	count(results) == 1
	some r in results
	contains(r.msg, "of type NodePort")
}

test_cluster_ip_and_default_pass if {
	count(warn) == 0 with input as service({"type": "ClusterIP"})
	count(warn) == 0 with input as service({"ports": [{"port": 80}]})
	count(warn) == 0 with input as service({"type": "ExternalName", "externalName": "db.example.com"})
}
