"""The policy unit-test runner (``gitops-bot test-policies``), on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.rego import ENGINES, builtin_policy_dir, run_policy_tests

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "policies" / "conftest"


@pytest.mark.parametrize("engine", ENGINES)
def test_fixture_tests_pass_and_fail_as_written(engine):
    results = run_policy_tests([FIXTURES / "v1" / "policy"], engine=engine)
    assert sorted((Path(r.file).name, r.package, r.name, r.passed, r.error) for r in results) == [
        ("labels_test.rego", "labels", "test_labelled_deployment_allowed", True, ""),
        ("labels_test.rego", "labels", "test_missing_labels_denied", True, ""),
        (
            "main_test.rego",
            "main",
            "test_deliberately_failing",
            False,
            "test result is undefined, expected true",
        ),
        ("main_test.rego", "main", "test_public_load_balancer_excepted", True, ""),
    ]
    assert all(r.duration_ms >= 0 for r in results)


@pytest.mark.parametrize("engine", ENGINES)
def test_false_and_erroring_tests_fail_with_a_reason(engine, tmp_path):
    (tmp_path / "p_test.rego").write_text(
        "package p\nimport rego.v1\n"
        "test_false if { false == false; 1 == 2 }\n"
        "test_value := 3\n"
        "x := 1 if true\nx := 2 if true\n"
        "test_conflict if { x == 1 }\n"
    )
    results = {r.name: r for r in run_policy_tests([tmp_path], engine=engine)}
    assert sorted(results) == ["test_conflict", "test_false", "test_value"]
    assert not any(r.passed for r in results.values())
    assert results["test_value"].error == "test result is a number, expected true"
    assert results["test_conflict"].error.startswith("evaluate data.p.test_conflict: ")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_directory_that_does_not_compile_is_one_failed_result(engine, tmp_path):
    (tmp_path / "bad.rego").write_text("package bad\nimport rego.v1\ndeny contains msg if {\n")
    (results,) = run_policy_tests([tmp_path], engine=engine)
    assert (results.name, results.passed) == ("<compile>", False)
    assert results.error.startswith(f"compile {tmp_path / 'bad.rego'}: ")


def test_builtin_library_tests_pass_on_both_engines_alike():
    """OPA is the oracle: every built-in test passes on both engines, with the same set of tests."""
    outcomes = {}
    for engine in ENGINES:
        results = run_policy_tests([builtin_policy_dir()], engine=engine)
        failures = [(r.file, r.name, r.error) for r in results if not r.passed]
        assert failures == [], f"{engine}: {failures}"
        outcomes[engine] = {(r.file, r.package, r.name, r.passed) for r in results}
    assert len(outcomes["opa"]) > 0
    assert outcomes["regorus"] == outcomes["opa"]
