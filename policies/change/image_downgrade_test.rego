package gitops.change.builtin.image_downgrade

import rego.v1

deployment(images) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": name, "image": image} | some name, image in images]}}},
}

change(before, after) := {"operation": "update", "before": deployment(before), "after": deployment(after)}

test_older_tag_warns if {
	warn == {{
		"msg": `Deployment "web": container "app" image ghcr.io/acme/web moves from v1.4.0 back to older v1.3.9; make sure the rollback is intended`,
		"path": "spec.template.spec.containers[0].image",
	}} with input as change({"app": "ghcr.io/acme/web:v1.4.0"}, {"app": "ghcr.io/acme/web:v1.3.9"})
}

test_newer_or_equal_tag_passes if {
	count(warn) == 0 with input as change({"app": "nginx:1.25.3"}, {"app": "nginx:1.27.0"})
	count(warn) == 0 with input as change({"app": "nginx:1.25.3"}, {"app": "nginx:1.25.3-alpine"})
}

test_floating_minor_tag_is_not_older if {
	count(warn) == 0 with input as change({"app": "nginx:1.25.3"}, {"app": "nginx:1.25"})
	count(warn) == 1 with input as change({"app": "nginx:1.25.3"}, {"app": "nginx:1.24"})
}

test_non_semver_tags_ignored if {
	count(warn) == 0 with input as change({"app": "nginx:stable"}, {"app": "nginx:1.0.0"})
	count(warn) == 0 with input as change({"app": "nginx:1.2.0"}, {"app": "nginx:latest"})
	count(warn) == 0 with input as change({"app": "app:9f8e7d6"}, {"app": "app:1a2b3c4"})
}

test_other_repository_is_not_a_downgrade if {
	count(warn) == 0 with input as change({"app": "nginx:2.0.0"}, {"app": "caddy:1.0.0"})
}

test_registry_port_and_digest_handled if {
	count(warn) == 1 with input as change(
		{"app": "registry:5000/app:2.0.1@sha256:abc"},
		{"app": "registry:5000/app:2.0.0"},
	)
	count(warn) == 0 with input as change({"app": "registry:5000/app"}, {"app": "registry:5000/app:1.0.0"})
}

test_containers_matched_by_name if {
	count(warn) == 0 with input as change({"a": "x:2.0.0", "b": "x:1.0.0"}, {"a": "x:2.0.0", "c": "x:1.0.0"})
}

test_semver_helper if {
	data.gitops.lib.semver.version("v1.2.3") == [1, 2, 3]
	data.gitops.lib.semver.version("10.2") == [10, 2]
	not data.gitops.lib.semver.version("1.2.3.4")
	data.gitops.lib.semver.older([1, 9], [1, 10])
	not data.gitops.lib.semver.older([2, 0, 0], [1, 99, 99])
}
