"""GitHub Actions workflow commands: each finding becomes an ``::error``/``::warning``/``::notice`` annotation.

https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.core.findings import Finding, Severity
from bot.core.masking import mask_report
from bot.core.report import Report
from bot.reporters.paths import located
from bot.reporters.text import by_severity, location, verdict_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
# GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (50 per job) and drops the
# rest without a word: https://github.com/actions/toolkit/blob/main/docs/problem-matchers.md#limitations
ANNOTATIONS_PER_LEVEL_PER_STEP = 10


def escape_data(text: str) -> str:
    """Message escaping, as @actions/core's ``escapeData`` does (% first, or it would double-escape)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Property escaping, as @actions/core's ``escapeProperty``: also ``:`` and ``,`` which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class GitHubActionsReporter:
    base_dir: str = ""

    def render(self, report: Report) -> str:
        report = mask_report(report)
        # Waived findings are let through on purpose: annotating them would only be noise on the PR.
        # Errors first, so the findings that block are the ones GitHub keeps.
        active = [f for f in by_severity(report.findings) if f.waived is None]
        shown: Counter[Severity] = Counter()
        lines, overflow = [], []
        for finding in active:
            if shown[finding.severity] < ANNOTATIONS_PER_LEVEL_PER_STEP:
                shown[finding.severity] += 1
                lines.append(self.command(finding))
            else:
                overflow.append(finding)
        # The rest stay in the log as plain lines (not commands), so nothing is lost, only not annotated.
        lines.extend(escape_data(self.plain(f)) for f in overflow)
        if overflow:
            lines.append(
                f"{len(overflow)} more finding(s) not shown as annotations (GitHub shows at most "
                f"{ANNOTATIONS_PER_LEVEL_PER_STEP} per level and step); they are listed above"
            )
        # A plain line (not a command) ends the log with the verdict; the runner prints it as is.
        lines.append(escape_data(verdict_line(report)))
        return "\n".join(lines) + "\n"

    def plain(self, finding: Finding) -> str:
        where = location(finding, self.base_dir)
        return f"{where}  {finding.severity.label}  {finding.rule}  {finding.message}"

    def command(self, finding: Finding) -> str:
        properties: list[tuple[str, str]] = []
        if finding.file:
            properties.append(("file", located(self.base_dir, finding.file)))
            if finding.line > 0:
                properties.append(("line", str(finding.line)))
                if finding.column > 0:
                    properties.append(("col", str(finding.column)))
        properties.append(("title", finding.rule))
        props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
        message = finding.message
        if finding.resource and finding.resource.display():
            message = f"{finding.resource.display()}: {message}"
        if finding.remediation:
            message += f"\nfix: {finding.remediation}"
        return f"::{COMMANDS[finding.severity]} {props}::{escape_data(message)}"
