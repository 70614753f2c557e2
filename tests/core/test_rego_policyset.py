"""PolicySet: loading sources, data files, the inventory, built-in rules and error isolation."""

from __future__ import annotations

import pytest

from bot.core.findings import Severity
from bot.core.rego import ENGINES, PolicySet, builtin_policy_dir
from bot.core.rego.inventory import build_inventory, inventory_key
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.errors import ConfigError, PolicyError

DUPLICATES = """# METADATA
# title: Objects are defined once
# custom:
#   id: test-duplicates
#   severity: warning
#   remediation: Remove one definition.
package gitops.builtin.test_duplicates

import rego.v1

key := sprintf("%s/%s/%s/%s", [group, input.kind, object.get(input.metadata, "namespace", ""), input.metadata.name])

group := g if {
	contains(input.apiVersion, "/")
	g := split(input.apiVersion, "/")[0]
} else := ""

deny contains result if {
	places := data.gitops.inventory[key]
	count(places) > 1
	others := [sprintf("%s:%d", [p.file, p.line]) | some p in places]
	result := {"msg": sprintf("defined %d times: %s", [count(places), concat(", ", others)]), "path": "metadata.name"}
}
"""


def configmap(name: str, file: str, line: int, namespace: str = "") -> Resource:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return Resource(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata},
        file,
        line=line,
        positions={("metadata", "name"): (line + 2, 3)},
    )


def test_inventory_keys_and_places():
    resources = [
        configmap("a", "x.yaml", 1),
        configmap("a", "y.yaml", 5),
        Resource(
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}},
            "d.yaml",
        ),
    ]
    assert build_inventory(resources) == {
        "/ConfigMap//a": [{"file": "x.yaml", "line": 1}, {"file": "y.yaml", "line": 5}],
        "apps/Deployment/n/w": [{"file": "d.yaml", "line": 1}],
    }
    assert inventory_key(resources[2].ref) == "apps/Deployment/n/w"


@pytest.mark.parametrize("engine", ENGINES)
def test_duplicates_rule_reads_the_inventory(engine):
    policies = PolicySet.load([("dup.rego", DUPLICATES)], engine=engine, builtin=False)
    resources = [configmap("a", "x.yaml", 1), configmap("a", "y.yaml", 5), configmap("b", "x.yaml", 10)]
    findings = policies.evaluate(resources)
    assert sorted((f.rule, f.severity, f.file, f.line, f.message) for f in findings) == [
        ("test-duplicates", Severity.WARNING, "x.yaml", 3, "defined 2 times: x.yaml:1, y.yaml:5"),
        ("test-duplicates", Severity.WARNING, "y.yaml", 7, "defined 2 times: x.yaml:1, y.yaml:5"),
    ]
    # The inventory is per call: the same policy set judges the next change afresh.
    assert policies.evaluate([configmap("a", "x.yaml", 1)]) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_user_data_cannot_fake_the_inventory(engine):
    fake = {"gitops": {"inventory": {"/ConfigMap//a": [{"file": "f", "line": 1}, {"file": "g", "line": 2}]}}}
    policies = PolicySet.load([("dup.rego", DUPLICATES)], engine=engine, builtin=False, data=fake)
    assert policies.evaluate([configmap("a", "x.yaml", 1)]) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_builtin_rules_have_ids_from_metadata(engine):
    policies = PolicySet.load([], engine=engine)
    ids = [rule.id for rule in policies.rules]
    assert "image-tag" in ids and "run-as-non-root" in ids
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert all(rule.package.startswith("gitops.builtin.") for rule in policies.rules)
    image_tag = next(rule for rule in policies.rules if rule.id == "image-tag")
    assert image_tag.package == "gitops.builtin.image_tag"
    assert image_tag.severity is Severity.ERROR


def test_builtin_policy_dir_is_the_checkout_library():
    assert builtin_policy_dir().name == "policies"
    assert (builtin_policy_dir() / "lib" / "kubernetes.rego").is_file()


@pytest.mark.parametrize("engine", ENGINES)
def test_builtin_image_tag_finding_points_at_the_image_line(engine):
    policies = PolicySet.load([], engine=engine)
    deployment = Resource(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}},
        },
        "apps/web.yaml",
        line=1,
        positions={
            ("metadata", "name"): (4, 3),
            ("spec", "template", "spec", "containers", 0): (9, 9),
            ("spec", "template", "spec", "containers", 0, "image"): (10, 11),
        },
    )
    image = [f for f in policies.evaluate([deployment]) if f.rule == "image-tag"]
    assert [(f.line, f.column, f.path, f.severity) for f in image] == [
        (10, 11, "spec.template.spec.containers[0].image", Severity.ERROR)
    ]
    assert image[0].remediation != ""


@pytest.mark.parametrize("engine", ENGINES)
def test_from_workspace_reads_policies_and_data_under_the_dirs(engine):
    ws = Workspace.from_dict(
        {
            "policy/main.rego": 'package main\nimport rego.v1\ndeny contains data.message if input.kind == "Pod"\n',
            "policy/main_test.rego": "package main\nimport rego.v1\ntest_x if false\n",
            "policy/data.yaml": "message: no pods\n",
            "policy/example-pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
            "other/ignored.rego": 'package main\nimport rego.v1\ndeny contains "other" if true\n',
        }
    )
    policies = PolicySet.from_workspace(ws, ["policy"], engine=engine, builtin=False)
    pod = Resource({"kind": "Pod", "metadata": {"name": "p"}}, "pod.yaml")
    assert [f.message for f in policies.evaluate([pod])] == ["no pods"]


def test_conflicting_data_files_name_the_file():
    sources = [("a/data.json", '{"limits": {"cpu": 1}}'), ("b/data.yaml", "limits:\n  cpu: 2\n")]
    with pytest.raises(PolicyError) as err:
        PolicySet.load(sources, builtin=False)
    assert str(err.value) == "data b/data.yaml: conflicting value for key 'cpu'"


def test_data_files_deep_merge():
    sources = [("a.json", '{"limits": {"cpu": 1}}'), ("b.yml", "limits:\n  memory: 2\nowners: [x]\n")]
    assert PolicySet.load(sources, builtin=False).data == {"limits": {"cpu": 1, "memory": 2}, "owners": ["x"]}


@pytest.mark.parametrize("engine", ENGINES)
def test_compile_error_in_a_user_policy_names_its_file(engine):
    with pytest.raises(PolicyError) as err:
        PolicySet.load(
            [("policy/bad.rego", "package main\nimport rego.v1\ndeny contains x if { y }\n")], engine=engine
        )
    assert str(err.value).startswith("compile policy/bad.rego: ")


def test_bad_metadata_names_its_file():
    source = "# METADATA\n# custom:\n#   severity: urgent\npackage main\n"
    with pytest.raises(PolicyError) as err:
        PolicySet.load([("policy/meta.rego", source)], builtin=False)
    assert str(err.value) == (
        "compile policy/meta.rego: METADATA of package main: unknown severity 'urgent': expected error, warning or notice"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_failing_at_runtime_is_isolated(engine):
    broken = 'package broken\nimport rego.v1\nx := 1 if true\nx := 2 if true\ndeny contains x if true\nwarn contains "still here" if true\n'
    sources = [
        ("ok.rego", 'package main\nimport rego.v1\ndeny contains "plain deny" if true\n'),
        ("broken.rego", broken),
    ]
    policies = PolicySet.load(sources, engine=engine, builtin=False, namespaces=("main", "broken"))
    findings = policies.evaluate([configmap("a", "cm.yaml", 1)])
    assert sorted((f.rule, f.severity, f.line, f.message[:40]) for f in findings) == [
        ("broken.warn", Severity.WARNING, 3, "still here"),
        ("main.deny", Severity.ERROR, 3, "plain deny"),
        ("policy-error", Severity.ERROR, 1, "policy package broken could not be evalu"),
    ]
    error = next(f for f in findings if f.rule == "policy-error")
    assert error.message.startswith(
        "policy package broken could not be evaluated for this document: evaluate "
    )


def test_missing_policy_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        PolicySet.from_directories([tmp_path / "nope"], builtin=False)
    assert str(err.value) == f"policy path {tmp_path / 'nope'} does not exist"
