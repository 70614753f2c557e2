package gitops.builtin.host_path

import rego.v1

test_host_path_denied if {
	results := deny with input as {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {"template": {"spec": {
		"containers": [{"name": "a"}],
		"volumes": [{"name": "cfg", "configMap": {"name": "c"}}, {"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
	}}}}
	results == {{
		"msg": `DaemonSet "agent": volume "sock" mounts host path "/var/run/docker.sock"; use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume instead`,
		"path": "spec.template.spec.volumes[1].hostPath",
	}}
}

test_cronjob_host_path_denied if {
	results := deny with input as {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"volumes": [{"name": "root", "hostPath": {"path": "/"}}],
	}}}}}}
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.volumes[0].hostPath"}
}

test_other_volumes_pass if {
	count(deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"volumes": [
		{"name": "tmp", "emptyDir": {}},
		{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
	]}}
}

test_persistent_volume_host_path_not_this_rule if {
	# A PersistentVolume's hostPath is an administrator's choice, not a pod's.
	count(deny) == 0 with input as {"kind": "PersistentVolume", "metadata": {"name": "pv"}, "spec": {"hostPath": {"path": "/data"}}}
}
