"""Every YAML reader passes the loader's limits: a small alias bomb costs milliseconds wherever it hides."""

from __future__ import annotations

import pytest

from bot.core.config import InvalidConfigError, load_repo_config
from bot.core.rego.metadata import parse_package_metadata
from bot.core.rego.sources import merge_data_files
from bot.core.yaml_gateway import YamlError, dump_yaml, load_value, load_values
from bot.errors import PolicyError


def alias_bomb(levels: int = 7, indent: str = "") -> str:
    """About 600 bytes that expand to 9**levels values (PyYAML's safe_load shares them; JSON expands them)."""
    lines = [f'{indent}l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels):
        lines.append(f"{indent}l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_policy_data_file_bomb_is_refused_naming_the_file():
    with pytest.raises(PolicyError) as err:
        merge_data_files([("policies/data.yaml", alias_bomb())])
    assert str(err.value).startswith("data policies/data.yaml: not valid YAML (line 1): The document has more than 100,000 values")


def test_a_json_data_file_passes_the_same_limits():
    deep = "[" * 150 + "]" * 150
    with pytest.raises(PolicyError, match=r"data policies/deep.json: not valid JSON .*more than 100 levels"):
        merge_data_files([("policies/deep.json", deep)])
    assert merge_data_files([("policies/ok.json", '{"allowed": {"registries": ["ghcr.io"]}}')]) == {
        "allowed": {"registries": ["ghcr.io"]}
    }


def test_a_metadata_block_bomb_is_refused():
    source = "# METADATA\n" + "".join(f"# {line}\n" for line in alias_bomb(5).splitlines()) + "package x\n"
    with pytest.raises(PolicyError, match="METADATA block at line 1: not valid YAML: The document has more than 5,000 values"):
        parse_package_metadata(source)


def test_the_config_refuses_aliases_and_bombs_on_their_line():
    with pytest.raises(InvalidConfigError) as err:
        load_repo_config(alias_bomb(3).encode())
    [problem] = err.value.problems
    assert (problem.line, problem.message) == (2, "YAML syntax error: aliases are not allowed in this file; write the value out")


def test_gateway_reads_values_and_writes_block_yaml():
    assert load_values("a: 1\n---\n---\nb: [x]\n") == [{"a": 1}, {"b": ["x"]}]
    assert load_value("") is None
    with pytest.raises(YamlError, match="expected one YAML document"):
        load_value("a: 1\n---\nb: 2\n")
    with pytest.raises(YamlError, match="appears twice"):
        load_value("a: 1\na: 2\n")
    assert dump_yaml({"b": "one\ntwo\n", "a": 1}) == "b: |\n  one\n  two\na: 1\n"
