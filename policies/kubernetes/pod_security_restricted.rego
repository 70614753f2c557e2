# METADATA
# title: Pods meet the rest of the Pod Security restricted profile
# description: >-
#   The restricted controls not covered by their own rule: Volume Types (only
#   configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim,
#   projected, secret), Seccomp (RuntimeDefault or Localhost, set on the pod or
#   on every container) and Capabilities (drop ALL; add only NET_BIND_SERVICE).
#   Hardening: blocks only with `profile: restricted`.
# custom:
#   id: pod-security-restricted
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: warning
#   pss: restricted
#   remediation: Apply the setting named in the message (Pod Security Standards, restricted profile).
package gitops.builtin.pod_security_restricted

import rego.v1

import data.gitops.lib.kubernetes as k8s

allowed_volume_types := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}

allowed_seccomp := {"RuntimeDefault", "Localhost"}

deny contains result if {
	some i, volume in k8s.pod_spec.volumes
	is_object(volume)
	some source, _ in volume
	source != "name"
	not source in allowed_volume_types
	result := {
		"msg": sprintf("%s: volume %v uses %s, which Pod Security restricted does not allow; use one of %s", [
			k8s.object_label, object.get(volume, "name", i), source, concat(", ", sort(allowed_volume_types)),
		]),
		"path": sprintf("%s.volumes[%d].%s", [k8s.pod_spec_path, i, source]),
	}
}

deny contains result if {
	not pod_seccomp_set
	some c in k8s.containers
	not c.container.securityContext.seccompProfile.type
	result := {
		"msg": sprintf("%s: %s has no seccomp profile; set securityContext.seccompProfile.type to RuntimeDefault (pod or container)", [
			k8s.object_label, c.label,
		]),
		"path": k8s.nearest_path(c.path, c.container, ["securityContext", "seccompProfile", "type"]),
		"suggestion": {"path": sprintf("%s.securityContext", [c.path]), "set": {"seccompProfile": {"type": "RuntimeDefault"}}},
	}
}

deny contains result if {
	some c in k8s.containers
	container := c.container
	not drops_all(container)
	result := {
		"msg": sprintf("%s: %s does not drop ALL capabilities; add ALL to securityContext.capabilities.drop", [
			k8s.object_label, c.label,
		]),
		"path": k8s.nearest_path(c.path, c.container, ["securityContext", "capabilities", "drop"]),
	}
}

deny contains result if {
	some c in k8s.containers
	some j, capability in c.container.securityContext.capabilities.add
	capability != "NET_BIND_SERVICE"
	result := {
		"msg": sprintf("%s: %s adds the %v capability; Pod Security restricted allows adding only NET_BIND_SERVICE", [
			k8s.object_label, c.label, capability,
		]),
		"path": sprintf("%s.securityContext.capabilities.add[%d]", [c.path, j]),
	}
}

# A helper rule, not `not <undefined> in set`: OPA fails the body when a negated call's argument is undefined.
pod_seccomp_set if k8s.pod_spec.securityContext.seccompProfile.type in allowed_seccomp

drops_all(container) if {
	some dropped in container.securityContext.capabilities.drop
	dropped == "ALL"
}
