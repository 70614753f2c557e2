"""Policies and config that a change edits are compiled and tested, never used to judge that change."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.config import CONFIG_FILES, InvalidConfigError, RepoConfig, load_repo_config
from bot.core.findings import Finding, Severity, Source
from bot.core.policy_loader import policy_files
from bot.core.rego.policyset import PolicySet
from bot.core.rego.testing import run_policy_tests
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
    engine = engine or head_config.policy_engine or config.policy_engine or "regorus"
    try:
        PolicySet.from_workspace(head, dirs, namespaces=tuple(head_config.policy_namespaces), engine=engine, builtin=False)
    except PolicyError as e:
        file = _file_named_in(str(e), edited)
        out.findings.append(
            _finding(
                "policy-change/compile",
                f"the edited policy does not compile: {e}",
                file,
                _line_named_in(str(e)),
                "Fix the Rego syntax; `gitops-bot test-policies DIR` shows the same error locally.",
            )
        )
        out.results.append({"file": file, "name": "compile", "passed": False, "error": str(e)})
        return out
    out.results.append({"file": ", ".join(edited), "name": "compile", "passed": True, "error": ""})
    with tempfile.TemporaryDirectory(prefix="gitops-bot-policies-") as tmp:
        for path in policy_files(head, dirs):
            target = Path(tmp, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(head.read(path) or b"")
        roots = [str(Path(tmp, d)) for d in dirs if Path(tmp, d).is_dir()]
        tests = run_policy_tests(roots, engine=engine) if roots else []
        for t in tests:
            rel = str(Path(t.file).relative_to(tmp)) if t.file.startswith(tmp) else t.file
            out.results.append({"file": rel, "name": t.name, "passed": t.passed, "error": t.error})
            if not t.passed:
                out.findings.append(
                    _finding(
                        "policy-change/test-failed",
                        f"policy test {t.package}.{t.name} fails{': ' + t.error if t.error else ''}",
                        rel,
                        _test_line(head.read(rel), t.name),
                        "Fix the policy or its test; run `gitops-bot test-policies` locally.",
                    )
                )
    return out


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
