"""The result of one evaluation: its findings, counts and verdict, and the config it ran with."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.core.config import RepoConfig
from bot.core.findings import Finding, ResourceRef, Severity

REPORT_VERSION = 1


@dataclass
class Report:
    """Everything one evaluation found. Its JSON form (``to_json``) is versioned."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    resources_checked: int = 0
    deleted: list[ResourceRef] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # run-level notes (skipped files, fallbacks)
    timings: dict[str, float] = field(default_factory=dict)
    kubernetes_version: str = ""
    # Policies or config that the change itself edits: compiled and tested, never used to judge it.
    policy_changes: list[dict[str, Any]] = field(default_factory=list)
    # For a change (report mode "new"): findings already on the base branch; listed, never blocking, not counted.
    preexisting: list[Finding] = field(default_factory=list)
    # The configuration the evaluation ran with (front doors read their own knobs from it; not in JSON).
    config: RepoConfig | None = field(default=None, repr=False, compare=False)

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.sorted_findings() if f.blocking]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.sorted_findings() if f.waived is not None]

    def worst(self) -> Severity | None:
        active = [f.severity for f in self.findings if f.waived is None]
        return max(active) if active else None

    def counts(self) -> dict[str, int]:
        c = Counter(f.severity.label for f in self.findings if f.waived is None)
        return {
            "error": c.get("error", 0),
            "warning": c.get("warning", 0),
            "notice": c.get("notice", 0),
            "waived": sum(1 for f in self.findings if f.waived is not None),
        }

    def passed(self, fail_on_warn: bool = False) -> bool:
        worst = self.worst()
        threshold = Severity.WARNING if fail_on_warn else Severity.ERROR
        return worst is None or worst < threshold

    def exit_code(self, fail_on_warn: bool = False) -> int:
        return 0 if self.passed(fail_on_warn) else 1

    def summary(self) -> dict[str, Any]:
        return {
            "passed": self.passed(),
            "files": self.files_checked,
            "resources": self.resources_checked,
            **self.counts(),
            "deleted": len(self.deleted),
            "preexisting": len(self.preexisting),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "kubernetesVersion": self.kubernetes_version,
            "summary": self.summary(),
            "findings": [f.to_json() for f in self.sorted_findings()],
            "deleted": [r.to_json() for r in self.deleted],
            "notices": list(self.notices),
            "policyChanges": list(self.policy_changes),
            "preexisting": [f.to_json() for f in sorted(self.preexisting, key=Finding.sort_key)],
        }
