"""Engine adapters: the same answers and the same errors from regorus and OPA."""

from __future__ import annotations

import pytest

from bot.core.rego import ENGINES, make_engine
from bot.core.rego.v0_upgrade import upgrade_v0_module
from bot.errors import ConfigError, PolicyError

V1_MODULE = """package main
import rego.v1

deny contains msg if {
	input.kind == "Deployment"
	msg := sprintf("%s denied by %s", [input.metadata.name, data.owner])
}
"""

V0_MODULE = """package legacy

deny[msg] {
	input.kind == "Deployment"
	msg := "legacy deny"
}

allowed_kinds = {"ConfigMap"}

allow { allowed_kinds[input.kind] }

level(x) = "high" { x > 10 } else = "low" { true }
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_evaluate_returns_value_of_the_expression(engine):
    rego = make_engine(engine)
    rego.add_module("main.rego", V1_MODULE)
    rego.add_data({"owner": "platform"})
    rego.compile()
    doc = {"kind": "Deployment", "metadata": {"name": "web"}}
    assert rego.evaluate("data.main.deny", doc) == ["web denied by platform"]
    assert rego.evaluate("count(data.main.deny) + 1", doc) == 2
    assert rego.evaluate("data.main.deny", {"kind": "Service"}) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_undefined_is_none(engine):
    rego = make_engine(engine)
    rego.add_module("main.rego", V1_MODULE)
    assert rego.evaluate("data.main.nothing", {"kind": "Pod"}) is None
    assert rego.evaluate("data.nowhere", {"kind": "Pod"}) is None
    assert rego.evaluate("input.missing", {"kind": "Pod"}) is None


@pytest.mark.parametrize("engine", ENGINES)
def test_v0_module_runs_beside_v1(engine):
    rego = make_engine(engine)
    rego.add_module("main.rego", V1_MODULE)
    rego.add_module("legacy.rego", V0_MODULE)
    rego.compile()
    assert rego.evaluate("data.legacy.deny", {"kind": "Deployment"}) == ["legacy deny"]
    assert rego.evaluate("data.legacy.allow", {"kind": "ConfigMap"}) is True
    assert rego.evaluate("data.legacy.level(11)", {}) == "high"
    assert rego.evaluate("data.legacy.level(1)", {}) == "low"
    assert rego.packages() == ["legacy", "main"]


@pytest.mark.parametrize("engine", ENGINES)
def test_set_data_replaces_rather_than_merges(engine):
    rego = make_engine(engine)
    rego.add_module("main.rego", V1_MODULE)
    rego.set_data({"owner": "a", "extra": 1})
    rego.set_data({"owner": "b"})
    doc = {"kind": "Deployment", "metadata": {"name": "web"}}
    assert rego.evaluate("data.main.deny", doc) == ["web denied by b"]
    assert rego.evaluate("data.extra", doc) is None


@pytest.mark.parametrize("engine", ENGINES)
def test_syntax_error_names_the_file(engine):
    rego = make_engine(engine)
    with pytest.raises(PolicyError) as err:
        rego.add_module("policies/broken.rego", "package broken\nimport rego.v1\ndeny contains msg if {\n")
    assert str(err.value).startswith("compile policies/broken.rego: ")
    assert "Stack backtrace" not in str(err.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_unsafe_variable_surfaces_at_compile(engine):
    rego = make_engine(engine)
    rego.add_module("ok.rego", V1_MODULE)
    rego.add_module(
        "policies/unsafe.rego", "package unsafe\nimport rego.v1\ndeny contains msg if { input.a == y }\n"
    )
    with pytest.raises(PolicyError) as err:
        rego.compile()
    assert str(err.value).startswith("compile policies/unsafe.rego: ")
    assert "unsafe" in str(err.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_runtime_conflict_is_a_policy_error(engine):
    rego = make_engine(engine)
    rego.add_module("c.rego", "package c\nimport rego.v1\nx := 1 if input.a\nx := 2 if input.b\n")
    with pytest.raises(PolicyError) as err:
        rego.evaluate("data.c.x", {"a": True, "b": True})
    assert str(err.value).startswith("evaluate data.c.x: ")


def test_unknown_engine_lists_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        make_engine("wasm")
    assert str(err.value) == "unknown Rego engine 'wasm': expected one of regorus, opa"


def test_v0_upgrade_inserts_contains_and_if():
    source = (
        "package main\n"
        "# é\n"
        'deny[msg] {\n  msg := "x"\n}\n'
        'violation[{"msg": m}] { m := "y" }\n'
        "f(x) = y { y := x } else = 2 { true }\n"
        "g(x) = 1 { x } else { true }\n"
        'p[k] = v { k := "a"; v := 1 }\n'
        "q { true }\n"
    )
    assert upgrade_v0_module("m.rego", source) == (
        "package main\n"
        "# é\n"
        'deny contains msg if {\n  msg := "x"\n}\n'
        'violation contains {"msg": m} if { m := "y" }\n'
        "f(x) = y if { y := x } else = 2 if { true }\n"
        "g(x) = 1 if { x } else if { true }\n"
        'p[k] = v if { k := "a"; v := 1 }\n'
        "q if { true }\n"
    )


def test_v0_upgrade_of_invalid_rego_is_a_policy_error():
    with pytest.raises(PolicyError) as err:
        upgrade_v0_module("bad.rego", "package bad\ndeny[msg] {\n")
    assert str(err.value).startswith("compile bad.rego: ")
