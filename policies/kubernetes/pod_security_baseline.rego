# METADATA
# title: Pods meet the rest of the Pod Security baseline profile
# description: >-
#   The baseline controls not covered by their own rule: HostProcess, Seccomp
#   (not Unconfined), AppArmor (not unconfined), SELinux (type from the allowed
#   list, no user or role), /proc mount type (Default) and Sysctls (the safe
#   set only). A namespace enforcing baseline rejects such a pod at admission.
# custom:
#   id: pod-security-baseline
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Remove the setting named in the message (Pod Security Standards, baseline profile).
package gitops.builtin.pod_security_baseline

import rego.v1

import data.gitops.lib.kubernetes as k8s

selinux_types := {"container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

safe_sysctls := {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

# Every securityContext of the pod: the pod's own and each container's.
contexts contains {"ctx": ctx, "path": sprintf("%s.securityContext", [k8s.pod_spec_path]), "label": "the pod"} if {
	ctx := k8s.pod_spec.securityContext
	is_object(ctx)
}

contexts contains {"ctx": ctx, "path": sprintf("%s.securityContext", [c.path]), "label": c.label} if {
	some c in k8s.containers
	ctx := c.container.securityContext
	is_object(ctx)
}

deny contains result if {
	some s in contexts
	s.ctx.windowsOptions.hostProcess == true
	result := finding(s, "windowsOptions.hostProcess", "runs a Windows HostProcess container (privileged access to the host)")
}

deny contains result if {
	some s in contexts
	s.ctx.seccompProfile.type == "Unconfined"
	result := finding(s, "seccompProfile.type", "sets seccompProfile.type Unconfined")
}

deny contains result if {
	some s in contexts
	s.ctx.appArmorProfile.type == "Unconfined"
	result := finding(s, "appArmorProfile.type", "sets appArmorProfile.type Unconfined")
}

deny contains result if {
	some s in contexts
	selinux_type := s.ctx.seLinuxOptions.type
	is_string(selinux_type)
	selinux_type != ""
	not selinux_type in selinux_types
	result := finding(s, "seLinuxOptions.type", sprintf("sets SELinux type %q", [selinux_type]))
}

deny contains result if {
	some s in contexts
	some field in ["user", "role"]
	value := s.ctx.seLinuxOptions[field]
	is_string(value)
	value != ""
	result := finding(s, sprintf("seLinuxOptions.%s", [field]), sprintf("sets a custom SELinux %s", [field]))
}

deny contains result if {
	some c in k8s.containers
	mount := c.container.securityContext.procMount
	mount != "Default"
	s := {"path": sprintf("%s.securityContext", [c.path]), "label": c.label}
	result := finding(s, "procMount", sprintf("sets procMount %v", [mount]))
}

deny contains result if {
	some i, sysctl in k8s.pod_spec.securityContext.sysctls
	name := sysctl.name
	not name in safe_sysctls
	result := {
		"msg": sprintf("%s sets the unsafe sysctl %v, which Pod Security baseline forbids; remove it", [k8s.object_label, name]),
		"path": sprintf("%s.securityContext.sysctls[%d].name", [k8s.pod_spec_path, i]),
	}
}

# AppArmor through the (pre-1.30) pod annotation: only runtime/default and localhost/* are allowed.
deny contains result if {
	some key, value in pod_annotations
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	value != "runtime/default"
	not startswith(value, "localhost/")
	result := {
		"msg": sprintf("%s sets AppArmor profile %q in annotation %s, which Pod Security baseline forbids; use runtime/default or localhost/<profile>", [k8s.object_label, value, key]),
		"path": sprintf("%s.annotations.%s", [pod_metadata_path, key]),
	}
}

pod_metadata_path := "metadata" if k8s.kind == "Pod"

pod_metadata_path := sprintf("%s.metadata", [trim_suffix(k8s.pod_spec_path, ".spec")]) if k8s.kind != "Pod"

pod_annotations := a if {
	k8s.kind == "Pod"
	a := input.metadata.annotations
	is_object(a)
}

pod_annotations := a if {
	k8s.kind in k8s.template_workload_kinds
	a := input.spec.template.metadata.annotations
	is_object(a)
}

pod_annotations := a if {
	k8s.kind == "CronJob"
	a := input.spec.jobTemplate.spec.template.metadata.annotations
	is_object(a)
}

finding(s, field, what) := {
	"msg": sprintf("%s: %s %s, which Pod Security baseline forbids; remove it", [k8s.object_label, s.label, what]),
	"path": sprintf("%s.%s", [s.path, field]),
}
