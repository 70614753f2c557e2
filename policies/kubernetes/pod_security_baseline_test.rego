package gitops.builtin.pod_security_baseline

import rego.v1

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

deployment(template) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": template}}

test_default_pod_passes if {
	count(deny) == 0 with input as pod({"containers": [{"name": "a", "image": "x:1"}]})
}

test_allowed_values_pass if {
	count(deny) == 0 with input as pod({
		"securityContext": {
			"seccompProfile": {"type": "RuntimeDefault"},
			"seLinuxOptions": {"type": "container_init_t", "level": "s0:c123,c456"},
			"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}],
			"windowsOptions": {"hostProcess": false},
		},
		"containers": [{"name": "a", "securityContext": {"procMount": "Default", "appArmorProfile": {"type": "RuntimeDefault"}}}],
	})
}

test_host_process_denied if {
	results := deny with input as pod({"containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}}]})
	results == {{
		"msg": `Pod "p": container "a" runs a Windows HostProcess container (privileged access to the host), which Pod Security baseline forbids; remove it`,
		"path": "spec.containers[0].securityContext.windowsOptions.hostProcess",
	}}
}

test_unconfined_seccomp_and_apparmor_denied if {
	results := deny with input as deployment({"spec": {
		"securityContext": {"seccompProfile": {"type": "Unconfined"}},
		"containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
	}})
	{r.path | some r in results} == {
		"spec.template.spec.securityContext.seccompProfile.type",
		"spec.template.spec.containers[0].securityContext.appArmorProfile.type",
	}
}

test_selinux_type_user_role_denied if {
	results := deny with input as pod({"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "system_u", "role": "system_r"}}}]})
	{r.path | some r in results} == {
		"spec.containers[0].securityContext.seLinuxOptions.type",
		"spec.containers[0].securityContext.seLinuxOptions.user",
		"spec.containers[0].securityContext.seLinuxOptions.role",
	}
}

test_unmasked_proc_mount_denied if {
	results := deny with input as pod({"containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]})
	{r.path | some r in results} == {"spec.containers[0].securityContext.procMount"}
}

test_unsafe_sysctl_denied if {
	results := deny with input as pod({"securityContext": {"sysctls": [
		{"name": "kernel.shm_rmid_forced", "value": "1"},
		{"name": "kernel.msgmax", "value": "65536"},
	]}, "containers": [{"name": "a"}]})
	results == {{
		"msg": `Pod "p" sets the unsafe sysctl kernel.msgmax, which Pod Security baseline forbids; remove it`,
		"path": "spec.securityContext.sysctls[1].name",
	}}
}

test_apparmor_annotation if {
	bad := deployment({
		"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}},
		"spec": {"containers": [{"name": "a"}]},
	})
	{r.path | some r in deny with input as bad} == {"spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/a"}
	good := deployment({
		"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "localhost/k8s-nginx"}},
		"spec": {"containers": [{"name": "a"}]},
	})
	count(deny) == 0 with input as good
}
