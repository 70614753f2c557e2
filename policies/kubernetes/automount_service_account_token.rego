# METADATA
# title: Pods should not mount a service account token they do not use
# description: >-
#   By default every pod gets a token for its service account mounted at
#   /var/run/secrets/kubernetes.io/serviceaccount; anyone who gets code
#   execution in the pod can use it against the API server. Most applications
#   never call the API. Only a notice: the ServiceAccount itself may already
#   disable automounting, which this rule cannot see.
# custom:
#   id: automount-service-account-token
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: notice
#   pss: none
#   remediation: Set automountServiceAccountToken to false in the pod spec (or on its ServiceAccount) unless the application talks to the Kubernetes API.
package gitops.builtin.automount_service_account_token

import rego.v1

import data.gitops.lib.kubernetes as k8s

warn contains result if {
	object.get(k8s.pod_spec, "automountServiceAccountToken", null) != false
	result := {
		"msg": sprintf("%s mounts a service account token; set automountServiceAccountToken to false unless it calls the Kubernetes API", [
			k8s.object_label,
		]),
		"path": k8s.nearest_path(k8s.pod_spec_path, k8s.pod_spec, ["automountServiceAccountToken"]),
	}
}
