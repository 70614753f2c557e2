# METADATA
# title: Containers must run as a non-root user
# description: >-
#   Root in a container is root on the host kernel: one container escape or a
#   writable host mount away from owning the node. runAsNonRoot makes the
#   kubelet refuse to start an image that would run as UID 0; runAsUser 0
#   asks for root explicitly.
# custom:
#   id: run-as-non-root
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: restricted
#   remediation: Set securityContext.runAsNonRoot to true on the pod (or every container) and use an image that runs as a non-zero UID.
package gitops.builtin.run_as_non_root

import rego.v1

import data.gitops.lib.kubernetes as k8s

pod_security_path := sprintf("%s.securityContext", [k8s.pod_spec_path])

deny contains result if {
	some c in k8s.containers
	effective(c.container, "runAsNonRoot") != true
	result := {
		"msg": sprintf("%s: %s may run as root; set securityContext.runAsNonRoot to true", [k8s.object_label, c.label]),
		"path": non_root_path(c),
		"suggestion": {"path": non_root_fix_path(c), "set": {"runAsNonRoot": true}},
	}
}

deny contains result if {
	some c in k8s.containers
	effective(c.container, "runAsUser") == 0
	result := {
		"msg": sprintf("%s: %s runs as root (runAsUser: 0); use a non-zero UID", [k8s.object_label, c.label]),
		"path": set_at(c, "runAsUser"),
	}
}

# A container's securityContext field wins over the pod's.
effective(container, field) := container.securityContext[field] if {
	k8s.has_field(container, ["securityContext", field])
} else := k8s.pod_spec.securityContext[field] if {
	k8s.has_field(k8s.pod_spec, ["securityContext", field])
} else := null

# Dotted path of whichever securityContext (container's, else pod's) sets field.
set_at(c, field) := sprintf("%s.securityContext.%s", [c.path, field]) if {
	k8s.has_field(c.container, ["securityContext", field])
} else := sprintf("%s.%s", [pod_security_path, field]) if {
	k8s.has_field(k8s.pod_spec, ["securityContext", field])
}

non_root_path(c) := set_at(c, "runAsNonRoot")

non_root_path(c) := k8s.nearest_path(c.path, c.container, ["securityContext"]) if {
	not set_at(c, "runAsNonRoot")
}

# Fix the value where it is wrong: the pod's when only the pod sets it false,
# the container's otherwise.
non_root_fix_path(c) := pod_security_path if {
	container := c.container
	not k8s.has_field(container, ["securityContext", "runAsNonRoot"])
	k8s.has_field(k8s.pod_spec, ["securityContext", "runAsNonRoot"])
} else := sprintf("%s.securityContext", [c.path])
