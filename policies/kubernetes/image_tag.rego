# METADATA
# title: Container images must be pinned to a tag or digest
# description: >-
#   An image without a tag means "latest", and "latest" moves: the same manifest
#   deploys different code from one rollout (or node) to the next, and a
#   rollback does not bring the old code back.
# custom:
#   id: image-tag
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob]
#   severity: error
#   pss: none
#   remediation: Set the image to an immutable tag (e.g. nginx:1.27.2) or a digest (nginx@sha256:...).
package gitops.builtin.image_tag

import rego.v1

import data.gitops.lib.kubernetes as k8s

deny contains result if {
	some c in k8s.containers
	image := c.container.image
	problem := image_problem(image)
	result := {
		"msg": sprintf("%s: %s uses image %q %s; pin a version tag or digest", [k8s.object_label, c.label, image, problem]),
		"path": sprintf("%s.image", [c.path]),
	}
}

# The tag is after the last ":" of the last path segment, so the port of a
# registry (registry:5000/app) is not mistaken for a tag.
image_problem(image) := "without a tag" if {
	is_string(image)
	image != ""
	not contains(image, "@")
	segment := last_segment(image)
	not contains(segment, ":")
}

image_problem(image) := "without a tag" if {
	is_string(image)
	not contains(image, "@")
	endswith(last_segment(image), ":")
}

image_problem(image) := "tagged latest" if {
	is_string(image)
	not contains(image, "@")
	parts := split(last_segment(image), ":")
	parts[count(parts) - 1] == "latest"
}

last_segment(image) := segments[count(segments) - 1] if segments := split(image, "/")
