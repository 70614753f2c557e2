package gitops.builtin.pod_security_restricted

import rego.v1

hardened := {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

test_restricted_pod_passes if {
	count(deny) == 0 with input as pod({
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [{"name": "a", "securityContext": object.union(hardened, {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})}],
		"volumes": [{"name": "t", "emptyDir": {}}, {"name": "c", "configMap": {"name": "x"}}, {"name": "v", "persistentVolumeClaim": {"claimName": "d"}}],
	})
}

test_container_level_seccomp_is_enough if {
	count(deny) == 0 with input as pod({"containers": [{"name": "a", "securityContext": object.union(hardened, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}})}]})
}

test_missing_seccomp_warned_per_container if {
	results := deny with input as pod({"containers": [{"name": "a", "securityContext": hardened}]})
	results == {{
		"msg": `Pod "p": container "a" has no seccomp profile; set securityContext.seccompProfile.type to RuntimeDefault (pod or container)`,
		"path": "spec.containers[0].securityContext",
		"suggestion": {"path": "spec.containers[0].securityContext", "set": {"seccompProfile": {"type": "RuntimeDefault"}}},
	}}
}

test_capabilities_must_drop_all_and_add_only_net_bind_service if {
	results := deny with input as pod({
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [{"name": "a", "securityContext": {"capabilities": {"drop": ["NET_RAW"], "add": ["CHOWN"]}}}],
	})
	{r.path | some r in results} == {
		"spec.containers[0].securityContext.capabilities.drop",
		"spec.containers[0].securityContext.capabilities.add[0]",
	}
}

test_volume_types_outside_the_list_warned if {
	results := deny with input as pod({
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [{"name": "a", "securityContext": hardened}],
		"volumes": [{"name": "ok", "secret": {"secretName": "s"}}, {"name": "nfs", "nfs": {"server": "n", "path": "/"}}],
	})
	{r.path | some r in results} == {"spec.volumes[1].nfs"}
}
