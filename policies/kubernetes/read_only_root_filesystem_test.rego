package gitops.builtin.read_only_root_filesystem

import rego.v1

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"}, "spec": spec}

test_unset_noticed_at_container if {
	results := warn with input as pod({"containers": [{"name": "app"}]})
	results == {{
		"msg": `Pod "p": container "app" has a writable root file system; set securityContext.readOnlyRootFilesystem to true`,
		"path": "spec.containers[0]",
	}}
}

test_false_noticed_at_field if {
	results := warn with input as pod({"containers": [{"name": "app", "securityContext": {"readOnlyRootFilesystem": false}}]})
	{r.path | some r in results} == {"spec.containers[0].securityContext.readOnlyRootFilesystem"}
}

test_true_passes_and_ephemeral_ignored if {
	count(warn) == 0 with input as pod({
		"containers": [{"name": "app", "securityContext": {"readOnlyRootFilesystem": true}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_init_container_noticed if {
	results := warn with input as pod({
		"initContainers": [{"name": "init", "securityContext": {}}],
		"containers": [{"name": "app", "securityContext": {"readOnlyRootFilesystem": true}}],
	})
	{r.path | some r in results} == {"spec.initContainers[0].securityContext"}
}
