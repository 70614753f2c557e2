"""A PR's edited policies are compiled and tested in memory: the core never writes them to disk."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bot.core.policy_changes import compile_and_test
from bot.core.rego import ENGINES

POLICY = """package main

import rego.v1

deny contains msg if {
\tinput.kind == "Pod"
\tmsg := "no pods"
}
"""
TESTS = """package main

import rego.v1

test_pod_denied if {
\tdeny["no pods"] with input as {"kind": "Pod"}
}

test_wrong_expectation if {
\tcount(deny) == 1 with input as {"kind": "Service"}
}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_policy_tests_run_without_a_temporary_directory(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Temporary files would go here, which does not exist: any attempt fails (even for root) and shows.
    nowhere = tmp_path / "no-temporary-files-here"
    monkeypatch.setenv("TMPDIR", str(nowhere))
    monkeypatch.setattr(tempfile, "tempdir", str(nowhere))
    files = {
        "policies/pods.rego": POLICY,
        "policies/pods_test.rego": TESTS,
        "policies/node_modules/skipped_test.rego": "package skipped\n\ntest_never_run := false\n",
        "apps/deployment.yaml": "kind: Deployment\n",
    }

    answer = compile_and_test({"files": files, "dirs": ["policies/"], "namespaces": ["main"], "engine": engine})

    assert answer["compile_error"] is None
    outcomes = {(t["file"], t["package"], t["name"], t["passed"]) for t in answer["tests"]}
    assert outcomes == {
        ("policies/pods_test.rego", "main", "test_pod_denied", True),
        ("policies/pods_test.rego", "main", "test_wrong_expectation", False),
    }
    assert not nowhere.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_policy_directory_outside_the_tree_reads_nothing_from_the_host(tmp_path: Path) -> None:
    """Directories name places in the PR's tree: an absolute one is that tree's, never the host's."""
    host = tmp_path / "host-policies"
    host.mkdir()
    (host / "leak_test.rego").write_text("package leak\n\ntest_host_file := true\n")
    files = {"policies/pods.rego": POLICY}

    answer = compile_and_test({"files": files, "dirs": [str(host)], "namespaces": ["main"], "engine": "regorus"})

    assert answer == {"compile_error": None, "tests": []}
