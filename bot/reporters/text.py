"""Human-readable terminal output: one line per finding, grouped by file, and a closing verdict."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from bot.core.findings import Finding, Severity
from bot.core.masking import mask_report
from bot.core.report import Report
from bot.reporters.paths import located

# Notices of the form "skipped <path>: <reason>" are summarised by reason unless verbose.
SKIPPED_NOTICE = re.compile(r"^skipped (?P<path>\S.*?): (?P<reason>.+)$")

_RESET = "\033[0m"
_STYLES = {
    "error": "\033[31m",  # red
    "warning": "\033[33m",  # yellow
    "notice": "\033[36m",  # cyan
    "dim": "\033[2m",
    "bold": "\033[1m",
    "pass": "\033[32m",  # green
}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def location(finding: Finding, base_dir: str = "") -> str:
    """``file:line:col`` with the parts that are known; ``(no file)`` for run-level findings."""
    path = printable(located(base_dir, finding.file)) or "(no file)"
    if finding.line <= 0:
        return path
    if finding.column <= 0:
        return f"{path}:{finding.line}"
    return f"{path}:{finding.line}:{finding.column}"


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Errors, then warnings, then notices (each by file and line); waived findings last: what blocks comes first."""
    return sorted(findings, key=lambda f: (f.waived is not None, -int(f.severity), *f.sort_key()))


def rule_summary_lines(report: Report) -> list[str]:
    """How many findings each rule produced, worst severity first: where a reader starts fixing."""
    active = Counter((f.severity, f.rule) for f in report.findings if f.waived is None)
    waived = Counter(f.rule for f in report.findings if f.waived is not None)
    rows = [(sev.label, rule, n) for (sev, rule), n in sorted(active.items(), key=lambda kv: (-kv[0][0], -kv[1], kv[0][1]))]
    rows += [("waived", rule, n) for rule, n in sorted(waived.items(), key=lambda kv: (-kv[1], kv[0]))]
    width = max(len(printable(rule)) for _, rule, _ in rows)
    return ["by rule:"] + [f"  {label:<8} {printable(rule):<{width}}  {n}" for label, rule, n in rows]


def verdict_line(report: Report) -> str:
    """One line a person reads first: does this block, how much, and how much was looked at."""
    blocking = report.blocking
    active = [f for f in report.findings if f.waived is None]
    warnings = sum(1 for f in active if f.severity is Severity.WARNING)
    notices = sum(1 for f in active if f.severity is Severity.NOTICE)
    waived = len(report.waived)
    if blocking:
        by_source = Counter(f.source for f in blocking)
        sources = ", ".join(
            f"{n} {src}" for src, n in sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        files = len({f.file for f in blocking})
        head = f"✗ {plural(len(blocking), 'blocking finding')} ({sources}) in {plural(files, 'file')}"
    else:
        head = "✓ No blocking findings"
    parts = [head]
    if warnings:
        parts.append(plural(warnings, "warning"))
    if notices:
        parts.append(plural(notices, "notice"))
    if waived:
        parts.append(f"{waived} waived")
    if report.preexisting:
        parts.append(f"{len(report.preexisting)} already on the base branch")
    checked = (
        f"checked {plural(report.resources_checked, 'resource')} in {plural(report.files_checked, 'file')}"
    )
    return " · ".join(parts) + " — " + checked


def notice_lines(notices: list[str], verbose: bool, base_dir: str = "") -> list[str]:
    """Run-level notes; skipped files are counted by reason unless ``verbose`` asks for each one."""
    skipped = [m for m in (SKIPPED_NOTICE.match(n) for n in notices) if m]
    others = [n for n in notices if not SKIPPED_NOTICE.match(n)]
    lines = [f"note: {printable(n)}" for n in others]
    if skipped:
        reasons = Counter(_reason_label(m.group("reason")) for m in skipped)
        summary = ", ".join(
            f"{n} × {label}" for label, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        lines.append(f"note: skipped {plural(len(skipped), 'file')}: {summary}")
        if verbose:
            lines.extend(
                f"  {printable(located(base_dir, m.group('path')))}: {printable(m.group('reason'))}"
                for m in skipped
            )
    return lines


def _reason_label(reason: str) -> str:
    """The short kind of a skip reason: "Helm chart template (Go template...): ..." -> "Helm chart template"."""
    return re.split(r"\s*[(:;]", reason, maxsplit=1)[0].strip() or reason


@dataclass(frozen=True)
class TextReporter:
    color: bool = False
    base_dir: str = ""
    verbose: bool = False

    def render(self, report: Report) -> str:
        report = mask_report(report)
        blocks: list[str] = []
        for _, group in groupby(by_severity(report.findings), key=lambda f: (f.waived is not None, f.severity, f.file)):
            blocks.append("\n".join(line for f in group for line in self._finding_lines(f)))
        if report.preexisting:  # already on the base branch: listed, not blocking
            old = sorted(report.preexisting, key=Finding.sort_key)
            blocks.append("\n".join([self._paint(f"already on the base branch ({len(old)}, not blocking):", "dim")]
                                    + [self._paint(f"  {location(f, self.base_dir)}  {f.severity.label} {printable(f.rule)}  "
                                                   f"{printable(f.message)}", "dim") for f in old]))
        if report.findings:
            blocks.append("\n".join(rule_summary_lines(report)))
        tail = [self._paint(verdict_line(report), "error" if report.blocking else "pass")]
        tail.extend(self._paint(n, "dim") for n in notice_lines(report.notices, self.verbose, self.base_dir))
        blocks.append("\n".join(tail))
        return "\n\n".join(blocks) + "\n"

    def _finding_lines(self, finding: Finding) -> list[str]:
        label = finding.severity.label
        resource = printable(finding.resource.display()) if finding.resource else ""
        head = (
            f"{self._paint(location(finding, self.base_dir), 'bold')}  "
            f"{self._paint(f'{label:<8}', label)} {printable(finding.rule)}  {printable(finding.message)}"
        )
        if resource:
            head += "  " + self._paint(f"({resource})", "dim")
        lines = [head]
        if finding.remediation:
            lines.append(f"  fix: {printable(finding.remediation)}")
        if finding.waived is not None:
            lines.append(f"  waived: {printable(finding.waived.reason)}")
            # Waived findings stay visible but dimmed: the reader sees what was let through and why.
            lines = [self._paint(_strip_ansi(line), "dim") for line in lines]
        return lines

    def _paint(self, text: str, style: str) -> str:
        if not self.color:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\033\[[0-9;]*m", "", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Untrusted text made safe for a terminal: no escape sequences, continuation lines indented.

    File names and messages come from the pull request; an ESC byte in them must
    not be able to repaint the reader's terminal or fake a green verdict.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))
    return text.replace("\n", "\n    ")
