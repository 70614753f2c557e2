package gitops.builtin.image_tag

import rego.v1

deployment(images) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": sprintf("c%d", [i]), "image": image} |
		some i, image in images
	]}}},
}

test_latest_tag_denied if {
	results := deny with input as deployment(["nginx:latest"])
	results == {{
		"msg": `Deployment "web": container "c0" uses image "nginx:latest" tagged latest; pin a version tag or digest`,
		"path": "spec.template.spec.containers[0].image",
	}}
}

test_missing_tag_denied if {
	results := deny with input as deployment(["nginx:1.27.2", "ghcr.io/acme/api"])
	count(results) == 1
	some r in results
	r.path == "spec.template.spec.containers[1].image"
	r.msg == `Deployment "web": container "c1" uses image "ghcr.io/acme/api" without a tag; pin a version tag or digest`
}

test_empty_tag_denied if {
	count(deny) == 1 with input as deployment(["nginx:"])
}

test_registry_port_is_not_a_tag if {
	results := deny with input as deployment(["registry.local:5000/team/app"])
	count(results) == 1
	some r in results
	contains(r.msg, "without a tag")
}

test_registry_port_with_tag_allowed if {
	count(deny) == 0 with input as deployment(["registry.local:5000/team/app:2.1.0"])
}

test_registry_port_with_latest_denied if {
	results := deny with input as deployment(["registry.local:5000/app:latest"])
	count(results) == 1
	some r in results
	contains(r.msg, "tagged latest")
}

test_digest_allowed if {
	count(deny) == 0 with input as deployment([
		"nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
		"nginx:latest@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
	])
}

test_pinned_tag_allowed if {
	count(deny) == 0 with input as deployment(["nginx:1.27.2", "quay.io/org/app:v3"])
}

test_cronjob_init_container_checked if {
	cronjob := {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {
			"initContainers": [{"name": "setup", "image": "busybox"}],
			"containers": [{"name": "run", "image": "busybox:1.36"}],
		}}}}},
	}
	results := deny with input as cronjob
	results == {{
		"msg": `CronJob "nightly": init container "setup" uses image "busybox" without a tag; pin a version tag or digest`,
		"path": "spec.jobTemplate.spec.template.spec.initContainers[0].image",
	}}
}

test_pod_checked if {
	results := deny with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "redis"}]}}
	{r.path | some r in results} == {"spec.containers[0].image"}
}

test_non_workload_ignored if {
	count(deny) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"image": "nginx"}}
}
