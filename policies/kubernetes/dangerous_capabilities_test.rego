package gitops.builtin.dangerous_capabilities

import rego.v1

deployment(added) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "app", "securityContext": {"capabilities": {"add": added}}}]}}},
}

test_sys_admin_denied_at_item if {
	results := deny with input as deployment(["NET_BIND_SERVICE", "SYS_ADMIN"])
	results == {{
		"msg": `Deployment "web": container "app" adds the SYS_ADMIN capability; remove it from securityContext.capabilities.add`,
		"path": "spec.template.spec.containers[0].securityContext.capabilities.add[1]",
	}}
}

test_each_dangerous_capability_reported if {
	results := deny with input as deployment(["ALL", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_RAW", "DAC_READ_SEARCH"])
	count(results) == 6
}

test_spellings_outside_the_baseline_set_denied if {
	results := deny with input as deployment(["CAP_SYS_ADMIN", "net_admin"])
	{r.path | some r in results} == {
		"spec.template.spec.containers[0].securityContext.capabilities.add[0]",
		"spec.template.spec.containers[0].securityContext.capabilities.add[1]",
	}
}

test_safe_capabilities_pass if {
	count(deny) == 0 with input as deployment(["NET_BIND_SERVICE", "CHOWN", "DAC_OVERRIDE", "SETUID"])
}

test_dropping_all_passes if {
	count(deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"]}}}]}}
}

test_init_container_in_cronjob_denied if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "net", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}],
		"containers": [{"name": "run"}],
	}}}}}}
	results := deny with input as cronjob
	{r.path | some r in results} == {"spec.jobTemplate.spec.template.spec.initContainers[0].securityContext.capabilities.add[0]"}
}

test_any_capability_outside_the_baseline_set_denied if {
	results := deny with input as deployment(["AUDIT_WRITE", "SYS_CHROOT", "IPC_LOCK", "CAP_CHOWN"])
	{r.path | some r in results} == {
		"spec.template.spec.containers[0].securityContext.capabilities.add[2]",
		"spec.template.spec.containers[0].securityContext.capabilities.add[3]",
	}
}
