"""Run Rego unit tests (``test_*`` rules), the backend of ``gitops-bot test-policies`` (like ``opa test``)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.rego.engine import DEFAULT_ENGINE, RegoEngine, package_of
from bot.core.rego.engine_factory import make_engine
from bot.core.rego.parity import route_engine
from bot.core.rego.sources import Source, directory_sources, merge_data_files, split_sources
from bot.core.rego.targets import RuleTarget, combined_query
from bot.errors import PolicyError

_TEST_RULE_RE = re.compile(r"^(test_[A-Za-z0-9_]*)\b(?!\s*\()", re.MULTILINE)
COMPILE_TEST_NAME = "<compile>"
MAX_ERROR_CHARS = 300


@dataclass
class PolicyTestResult:
    file: str
    package: str
    name: str
    passed: bool
    error: str = ""
    duration_ms: float = 0


def run_policy_tests(dirs: Sequence[str | Path], *, engine: str = DEFAULT_ENGINE) -> list[PolicyTestResult]:
    """Every ``test_*`` rule of each directory (policies, tests and data loaded together) on ``engine``.

    A test passes when its value is ``true``; undefined or false fails; an evaluation error is
    captured in ``error``. A directory that does not compile yields one failed ``<compile>`` result.
    """
    return run_source_tests([(str(directory), directory_sources([directory])) for directory in dirs], engine=engine)


def run_source_tests(
    trees: Sequence[tuple[str, Sequence[Source]]], *, engine: str = DEFAULT_ENGINE
) -> list[PolicyTestResult]:
    """`run_policy_tests` on files in memory: each tree is (label, its sources), loaded together as a directory is.

    A tree that does not compile yields one failed ``<compile>`` result whose file is its label.
    """
    results: list[PolicyTestResult] = []
    for label, sources in trees:
        results.extend(_run_tree(label, sources, engine))
    return results


def _run_tree(label: str, sources: Sequence[Source], engine_name: str) -> list[PolicyTestResult]:
    modules, tests, data_files = split_sources(sources)
    try:
        engine = make_engine(route_engine([*modules, *tests], engine_name))
        for filename, text in [*modules, *tests]:
            engine.add_module(filename, text)
        engine.add_data(merge_data_files(data_files))
        engine.compile()
    except PolicyError as e:
        return [PolicyTestResult(label, "", COMPILE_TEST_NAME, passed=False, error=str(e))]
    return _run_tests(engine, _discover_tests([*modules, *tests]))


def _run_tests(engine: RegoEngine, tests: list[tuple[str, str, str]]) -> list[PolicyTestResult]:
    """All tests in one query (OPA prepares every new query from scratch, ~0.1 s each).

    If any test errors the batch fails as a whole; then each test runs alone so the error is its own.
    """
    if not tests:
        return []
    targets = [RuleTarget(package, name) for _file, package, name in tests]
    started = time.perf_counter()
    try:
        values = engine.evaluate(combined_query(targets), None)
    except PolicyError:
        return [_run_test(engine, file, package, name) for file, package, name in tests]
    share_ms = (time.perf_counter() - started) * 1000 / len(tests)
    results = []
    for (file, package, name), wrapped in zip(tests, values, strict=True):
        error = _verdict(wrapped[0] if wrapped else None)
        results.append(
            PolicyTestResult(file, package, name, passed=not error, error=error, duration_ms=share_ms)
        )
    return results


def _discover_tests(modules: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(file, package, rule) for each distinct test rule; a rule split over several bodies runs once."""
    seen: set[tuple[str, str]] = set()
    found: list[tuple[str, str, str]] = []
    for filename, text in modules:
        package = package_of(text)
        for name in _TEST_RULE_RE.findall(text):
            if (package, name) not in seen:
                seen.add((package, name))
                found.append((filename, package, name))
    return found


def _run_test(engine: RegoEngine, file: str, package: str, name: str) -> PolicyTestResult:
    started = time.perf_counter()
    try:
        error = _verdict(engine.evaluate(f"data.{package}.{name}", None))
    except PolicyError as e:
        error = _bounded_error(str(e))
    duration_ms = (time.perf_counter() - started) * 1000
    return PolicyTestResult(file, package, name, passed=not error, error=error, duration_ms=duration_ms)


def _verdict(value: object) -> str:
    """ "" for a pass; otherwise why the test failed, naming the value's type, never echoing it.

    A test's value is whatever the policy computed (a fetched body, a Secret, a forged line):
    echoing it would publish it in the check run. Only booleans and undefined are named.
    """
    if value is True:
        return ""
    if value is None or value is False:
        return f"test result is {'undefined' if value is None else 'false'}, expected true"
    return f"test result is a {_json_type(value)}, expected true"


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "value")


def _bounded_error(message: str) -> str:
    """An engine's error, on one line and short: it can quote values the policy computed."""
    flat = " ".join(message.split())
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 3] + "..."
