package gitops.builtin.host_port

import rego.v1

deployment(ports) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "app", "ports": ports}]}}},
}

test_host_port_warned if {
	results := warn with input as deployment([{"containerPort": 8080}, {"containerPort": 9090, "hostPort": 9090}])
	results == {{
		"msg": `Deployment "web": container "app" binds host port 9090; remove hostPort and expose it through a Service`,
		"path": "spec.template.spec.containers[0].ports[1].hostPort",
	}}
}

test_container_ports_and_zero_host_port_pass if {
	count(warn) == 0 with input as deployment([{"containerPort": 8080}, {"containerPort": 9090, "hostPort": 0}])
}

test_init_container_in_cronjob_warned if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "ports": [{"containerPort": 53, "hostPort": 53}]}],
		"containers": [{"name": "run"}],
	}}}}}}
	results := warn with input as cronjob
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.initContainers[0].ports[0].hostPort"}
}
