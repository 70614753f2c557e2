package gitops.builtin.duplicate_object

import rego.v1

config_map := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "default"}, "data": {"a": "b"}}

test_duplicate_denied_naming_locations if {
	inventory := {"/ConfigMap/default/app": [{"file": "base/cm.yaml", "line": 1}, {"file": "overlays/prod/cm.yaml", "line": 12}]}
	results := deny with input as config_map with data.gitops.inventory as inventory
	results == {{
		"msg": `ConfigMap "app" in namespace "default" is defined 2 times (base/cm.yaml:1, overlays/prod/cm.yaml:12); keep one definition`,
		"path": "metadata.name",
	}}
}

test_single_definition_passes if {
	inventory := {"/ConfigMap/default/app": [{"file": "base/cm.yaml", "line": 1}]}
	count(deny) == 0 with input as config_map with data.gitops.inventory as inventory
}

test_no_inventory_passes if {
	count(deny) == 0 with input as config_map
}

test_key_uses_group_and_empty_namespace if {
	deployment := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
	inventory := {
		"apps/Deployment//web": [{"file": "a.yaml", "line": 1}, {"file": "a.yaml", "line": 30}, {"file": "b.yaml", "line": 5}],
		"/Deployment//web": [{"file": "x.yaml", "line": 1}, {"file": "y.yaml", "line": 1}],
	}
	results := deny with input as deployment with data.gitops.inventory as inventory
	results == {{
		"msg": `Deployment "web" is defined 3 times (a.yaml:1, a.yaml:30, b.yaml:5); keep one definition`,
		"path": "metadata.name",
	}}
}

test_other_names_do_not_collide if {
	inventory := {"/ConfigMap/default/other": [{"file": "a.yaml", "line": 1}, {"file": "b.yaml", "line": 1}]}
	count(deny) == 0 with input as config_map with data.gitops.inventory as inventory
}
