"""Policies and config that a change edits are compiled and tested, never used to judge that change."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from bot.core.config import CONFIG_FILES, InvalidConfigError, RepoConfig, load_repo_config
from bot.core.findings import Finding, Severity, Source
from bot.core.policy_loader import policy_files
from bot.core.rego.engine import in_process_engine
from bot.core.rego.policyset import PolicySet
from bot.core.rego.sources import tree_sources
from bot.core.rego.testing import COMPILE_TEST_NAME, run_source_tests
from bot.core.sandbox import SandboxLimitError, run_sandboxed
from bot.core.workspace import Workspace
from bot.errors import PolicyError


@dataclass
class PolicyChangeResult:
    findings: list[Finding] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


def check(
    head: Workspace, trusted: Workspace, config: RepoConfig, changed: Collection[str], *, engine: str | None = None
) -> PolicyChangeResult:
    out = PolicyChangeResult()
    changed = set(changed)
    head_config = config
    for name in CONFIG_FILES:
        if name in changed and head.exists(name):
            try:
                head_config = load_repo_config(head.read(name), name)
                out.results.append({"file": name, "name": "configuration", "passed": True, "error": ""})
            except InvalidConfigError as e:
                out.findings.extend(e.findings())
                out.results.append({"file": name, "name": "configuration", "passed": False, "error": str(e)})
    dirs = sorted(set(config.policy_dirs) | set(head_config.policy_dirs))
    edited = [p for p in policy_files(head, dirs) if p in changed] if dirs else []
    if not edited:
        return out
    # The trusted side chooses the engine: a PR that sets `policies.engine: opa` is checked like any other.
    engine = in_process_engine(engine or config.policy_engine)
    files = {path: (head.read(path) or b"").decode("utf-8", "replace") for path in policy_files(head, dirs)}
    payload = {"files": files, "dirs": dirs, "namespaces": list(head_config.policy_namespaces), "engine": engine}
    try:
        answer = run_sandboxed(f"{__name__}:compile_and_test", payload, label=f"policy tests of {', '.join(edited)}")
    except SandboxLimitError as e:
        blamed = next((p for p in edited if p.endswith("_test.rego")), edited[0])  # tests are what runs
        out.findings.append(_finding(e.rule, f"{e}; the edited policies were stopped", blamed, 1, _LIMIT_FIX))
        out.results.append({"file": ", ".join(edited), "name": "limits", "passed": False, "error": str(e)})
        return out
    except PolicyError as e:
        answer = {"compile_error": str(e), "tests": []}
    if answer["compile_error"] is not None:
        error = answer["compile_error"]
        file = _file_named_in(error, edited)
        out.findings.append(
            _finding(
                "policy-change/compile",
                f"the edited policy does not compile: {error}",
                file,
                _line_named_in(error),
                "Fix the Rego syntax; `gitops-bot test-policies DIR` shows the same error locally.",
            )
        )
        out.results.append({"file": file, "name": "compile", "passed": False, "error": error})
        return out
    out.results.append({"file": ", ".join(edited), "name": "compile", "passed": True, "error": ""})
    for t in answer["tests"]:
        rel, name, error = t["file"], t["name"], t["error"]
        if name == COMPILE_TEST_NAME:  # the tests themselves do not compile (or call a refused builtin)
            rel = _file_named_in(error, edited)
            out.findings.append(_finding("policy-change/compile", f"the edited policy tests do not compile: {error}",
                                         rel, _line_named_in(error), "Fix the test module; `gitops-bot test-policies DIR` shows the same error."))
            out.results.append({"file": rel, "name": "compile", "passed": False, "error": error})
            continue
        out.results.append({"file": rel, "name": name, "passed": t["passed"], "error": error})
        if not t["passed"]:
            out.findings.append(
                _finding(
                    "policy-change/test-failed",
                    f"policy test {t['package']}.{name} fails{': ' + error if error else ''}",
                    rel,
                    _test_line(head.read(rel), name),
                    "Fix the policy or its test; run `gitops-bot test-policies` locally.",
                )
            )
    return out


_LIMIT_FIX = "Make the policy or its tests cheaper (no unbounded numbers.range / nested iteration over large sets)."


def compile_and_test(payload: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the sandbox child: compile the PR's policies and run their tests, as plain JSON."""
    dirs, engine = payload["dirs"], payload["engine"]
    ws = Workspace.from_dict(payload["files"])
    try:
        PolicySet.from_workspace(ws, dirs, namespaces=tuple(payload["namespaces"]), engine=engine, builtin=False)
    except PolicyError as e:
        return {"compile_error": str(e), "tests": []}
    # In memory, as the rest of the core: one tree per policy directory that holds files.
    trees = [(directory, sources) for directory in dirs if (sources := tree_sources(payload["files"], directory))]
    tests = run_source_tests(trees, engine=engine)
    return {
        "compile_error": None,
        "tests": [
            {"file": t.file, "package": t.package, "name": t.name, "passed": t.passed, "error": t.error}
            for t in tests
        ],
    }


def _finding(rule: str, message: str, file: str, line: int, remediation: str) -> Finding:
    """Problems in policies the change edits block it: merging them would break every later check."""
    return Finding(rule, Severity.ERROR, message, file=file, line=line, source=Source.CONFIG, remediation=remediation)


def _file_named_in(message: str, candidates: list[str]) -> str:
    return next((c for c in candidates if c in message), candidates[0])


def _line_named_in(message: str) -> int:
    m = re.search(r":(\d+)(?::\d+)?", message)
    return int(m.group(1)) if m else 1


def _test_line(source: bytes | None, name: str) -> int:
    if not source:
        return 1
    for i, line in enumerate(source.decode("utf-8", "replace").splitlines(), start=1):
        if re.match(rf"\s*{re.escape(name)}\b", line):
            return i
    return 1
