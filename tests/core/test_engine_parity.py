"""The engine differential suite: regorus (default) and real OPA must give the same verdict on everything we have.

Built-in rules (their unit tests and every fixture manifest), the conftest-style
fixtures, the Gatekeeper templates under fixtures/gatekeeper and the constructs
where regorus and OPA used to disagree. A construct regorus cannot match is
routed to OPA (bot.core.rego.parity), so the verdicts still agree.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.gatekeeper import run_gatekeeper_suites
from bot.core.manifests import load_workspace
from bot.core.rego import PolicySet
from bot.core.rego.parity import find_divergences, route_engine, split_chained_bodies
from bot.core.rego.sources import builtin_policy_dir, builtin_sources
from bot.core.rego.testing import run_policy_tests
from bot.core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
ENGINES = ("regorus", "opa")


def verdict(findings) -> list[tuple]:
    return sorted((f.file, f.line, f.rule, f.severity.label, f.path, f.message, f.waived is not None) for f in findings)


def test_builtin_library_has_no_construct_regorus_would_judge_differently():
    modules = [(name, text) for name, text in builtin_sources() if name.endswith(".rego")]
    assert len(modules) > 40
    assert [str(d) for name, text in modules for d in find_divergences(name, text)] == []
    assert route_engine(modules, "regorus") == "regorus"  # so the default engine really runs it


def test_builtin_rule_tests_pass_identically_on_both_engines():
    outcomes = {}
    for engine in ENGINES:
        results = run_policy_tests([builtin_policy_dir()], engine=engine)
        outcomes[engine] = sorted((r.package, r.name, r.passed) for r in results)
        assert [r.name for r in results if not r.passed] == [], engine
    assert outcomes["regorus"] == outcomes["opa"]
    assert len(outcomes["opa"]) > 150


def fixture_manifests():
    """Every manifest of the fixtures tree: sample repo, layouts, Gatekeeper samples, hostile inputs, change cases."""
    return load_workspace(Workspace.from_directory(FIXTURES)).resources


def test_builtin_rules_give_identical_findings_on_every_fixture_manifest():
    resources = fixture_manifests()
    assert len(resources) > 100
    results = {engine: verdict(PolicySet.load([], engine=engine).evaluate(resources)) for engine in ENGINES}
    assert results["regorus"] == results["opa"]
    assert len(results["opa"]) > 100


def test_conftest_input_fixtures_give_identical_findings():
    inputs = load_workspace(Workspace.from_directory(FIXTURES / "policies" / "conftest" / "inputs")).resources
    for directory, namespaces in (("v0", ("main",)), ("v1", ("main", "security", "labels"))):
        policy = FIXTURES / "policies" / "conftest" / directory / "policy"
        results = [verdict(PolicySet.from_directories([policy], engine=e, namespaces=namespaces).evaluate(inputs))
                   for e in ENGINES]
        assert results[0] == results[1], directory
        assert results[1], directory


@pytest.mark.parametrize("tree", ["library", "patterns"])
def test_gatekeeper_suites_identical_on_both_engines(tree):
    outcomes = {
        engine: sorted((r.file, r.package, r.name, r.passed, r.error) for r in run_gatekeeper_suites([FIXTURES / "gatekeeper" / tree], engine=engine))
        for engine in ENGINES
    }
    assert outcomes["regorus"] == outcomes["opa"]
    assert [o for o in outcomes["opa"] if not o[3]] == []


def test_gatekeeper_repo_verdict_identical_on_both_engines():
    ws = Workspace.from_directory(FIXTURES / "gatekeeper" / "repo")
    results = [verdict(evaluate(ws, options=EvalOptions(engine=e, today=dt.date(2026, 12, 1))).findings) for e in ENGINES]
    assert results[0] == results[1]
    assert any(r[2].startswith("gatekeeper") or "/" not in r[2] for r in results[1])


# Constructs where the engines used to disagree, as conftest policies: (policy, input, expected deny messages).
DIVERGENT = {
    "negated call, undefined argument": (
        'package main\nimport rego.v1\nallowed(a, b) if a == b\n'
        'deny contains "no" if { not allowed("x", input.spec.missing) }\n',
        {"kind": "ConfigMap", "metadata": {"name": "a"}}, set(),
    ),
    "negated membership, undefined element": (
        'package main\nimport rego.v1\ndeny contains "bad" if { not input.spec.tier in {"gold"} }\n',
        {"kind": "ConfigMap", "metadata": {"name": "a"}}, set(),
    ),
    "negated builtin on a field of a local": (
        'package main\nimport rego.v1\ndeny contains c.name if { some c in input.spec.containers; not startswith(c.image, "reg/") }\n',
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b", "image": "x"}]}}, {"b"},
    ),
    "negated call, defined argument": (
        'package main\nimport rego.v1\ndeny contains "untagged" if { not contains(input.image, ":") }\n',
        {"kind": "X", "image": "nginx"}, {"untagged"},
    ),
    "v0 chained bodies of a partial set rule": (
        'package main\ndeny[msg] { input.a == 1; msg := "a" } { input.b == 1; msg := "b" }\n',
        {"kind": "X", "b": 1}, {"b"},
    ),
    "v0 chained bodies of a function": (
        'package main\nlabel(x) = y { x == 1; y := "one" } { x == 2; y := "two" }\ndeny[m] { m := label(input.n) }\n',
        {"kind": "X", "n": 2}, {"two"},
    ),
    "v0 chained bodies of a complete rule": (
        'package main\nbad { input.a == 1 } { input.b == 1 }\ndeny["bad"] { bad }\n',
        {"kind": "X", "b": 1}, {"bad"},
    ),
}


@pytest.mark.parametrize("case", sorted(DIVERGENT))
def test_formerly_divergent_constructs_judge_like_opa(case, tmp_path):
    policy, document, expected = DIVERGENT[case]
    (tmp_path / "policy.rego").write_text(policy)
    from bot.core.resource import Resource

    resource = Resource(document, "doc.yaml", 0, 1)
    messages = {
        engine: {f.message for f in PolicySet.from_directories([tmp_path], engine=engine, builtin=False).evaluate([resource])}
        for engine in ENGINES
    }
    assert messages["opa"] == expected
    assert messages["regorus"] == messages["opa"]


def test_negated_calls_with_dynamic_arguments_are_found_and_routed():
    source = DIVERGENT["negated call, undefined argument"][0]
    assert [(d.line, d.snippet) for d in find_divergences("p.rego", source)] == [(4, 'not allowed("x", input.spec.missing)')]
    assert route_engine([("p.rego", source)], "regorus") == "opa"
    assert route_engine([("p.rego", source)], "opa") == "opa"
    safe = 'package main\nimport rego.v1\nok := {"a"}\ndeny contains "x" if { v := input.v; not v in ok; not input.w == 1; not input.u }\n'
    assert find_divergences("s.rego", safe) == []
    template = (FIXTURES / "gatekeeper/patterns/negated-undefined-argument/template.yaml").read_text()
    assert "not accept(params.rule, group, params.ranges)" in template


def test_without_opa_the_policy_is_refused_not_judged_differently():
    """A real interpreter where the OPA bindings cannot be imported: the policy is refused with the reason."""
    code = (
        "import sys; sys.modules['opa_bindings'] = None\n"
        "from bot.core.rego.parity import route_engine\n"
        "from bot.errors import PolicyError\n"
        f"source = {DIVERGENT['negated call, undefined argument'][0]!r}\n"
        "try:\n    route_engine([('policy/p.rego', source)], 'regorus')\nexcept PolicyError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("policy/p.rego:4: `not allowed(\"x\", input.spec.missing)`"), out.stderr
    assert "refused" in out.stdout and "v := <argument>" in out.stdout


def test_chained_bodies_split_on_the_same_lines():
    source = 'package p\nv = {1} { true }\ndeny[m] { m := "a" } {\n  m := "b"\n}\ng(x) = 1 { x } else = 2 { true }\ns := "} {"\n'
    assert split_chained_bodies(source) == (
        'package p\nv = {1} { true }\ndeny[m] { m := "a" } deny[m] {\n  m := "b"\n}\ng(x) = 1 { x } else = 2 { true }\ns := "} {"\n'
    )


def test_a_routed_repository_policy_is_announced_in_the_report():
    files = {
        ".gitops-bot.yaml": b"policies:\n  directories: [policy/]\n",
        "policy/p.rego": DIVERGENT["negated membership, undefined element"][0].encode(),
        "cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n",
    }
    report = evaluate(Workspace.from_dict(files), options=EvalOptions(today=dt.date(2026, 12, 1)))
    assert any(n.startswith("policies: judged by the OPA engine") for n in report.notices)
    assert not [f for f in report.findings if f.message == "bad"]  # OPA's verdict: the body fails
