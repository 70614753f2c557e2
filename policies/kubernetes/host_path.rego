# METADATA
# title: Pods must not mount hostPath volumes
# description: >-
#   A hostPath volume exposes the node's file system to the pod: a writable
#   mount of /, /etc, /var/lib/kubelet or the container runtime socket is a
#   direct path to taking over the node, and data on it ties the pod to a node.
# custom:
#   id: host-path
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: baseline
#   remediation: Use a PersistentVolumeClaim, emptyDir, ConfigMap, Secret or projected volume instead of hostPath.
package gitops.builtin.host_path

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	volumes := k8s.pod_spec.volumes
	is_array(volumes)
	some i, volume in volumes
	is_object(volume.hostPath)
	result := {
		"msg": sprintf("%s: volume %q mounts host path %q; use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume instead", [
			k8s.object_label, object.get(volume, "name", sprintf("#%d", [i])), object.get(volume.hostPath, "path", ""),
		]),
		"path": sprintf("%s.volumes[%d].hostPath", [k8s.pod_spec_path, i]),
	}
}
