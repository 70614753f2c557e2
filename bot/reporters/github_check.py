"""A `Report` as a GitHub check run: conclusion, title, markdown summary and line annotations."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from bot.core.findings import Finding, Severity
from bot.core.masking import mask_report
from bot.core.report import Report
from bot.github.api import CheckRunOutput
from bot.markdown_text import code_span, counts_table, table_cell

# "The Checks API limits the number of annotations to a maximum of 50 per API request. To create
# more than 50 annotations, you have to make multiple requests to the Update a check run endpoint."
# https://docs.github.com/en/rest/checks/runs#update-a-check-run
DEFAULT_CHECK_NAME = "GitOps policy"  # the check run's name unless the App is configured otherwise
MAX_ANNOTATIONS_PER_REQUEST = 50
# output.title/summary/text: "Maximum length: 65535 characters."
MAX_OUTPUT_CHARS = 65_535
MAX_ANNOTATION_MESSAGE_CHARS = 64 * 1024 - 1
# Past this, more annotations only cost requests (one per 50) and bury the first ones; the rest are in the text.
MAX_ANNOTATIONS_TOTAL = 500

ANNOTATION_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
SEVERITY_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}

# Where the README explains how to make the check required on the base branch.
REQUIRED_CHECK_DOCS = "https://github.com/gitops-policy-bot/gitops-policy-bot#make-the-check-required"


@dataclass(frozen=True)
class CheckContext:
    """What the check run needs besides the report: the change and the repository's GitHub settings."""

    changed_paths: Collection[str] = ()  # head-side paths the change touched
    protection_warning: str = ""  # markdown, "" when the base branch requires the check
    neutral_on_warnings: bool = False
    fail_on_warnings: bool = False


@dataclass
class CheckRunResult:
    conclusion: str
    title: str
    annotations: int = 0
    requests: int = 0
    outputs: list[CheckRunOutput] = field(default_factory=list)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def conclusion(report: Report, ctx: CheckContext) -> str:
    """failure on any blocking finding (or warnings with failOnWarnings); neutral only when configured."""
    if report.blocking:
        return "failure"
    warned = report.counts()["warning"] > 0
    if warned and ctx.fail_on_warnings:
        return "failure"
    if warned and ctx.neutral_on_warnings:
        return "neutral"
    return "success"


def title(report: Report, ctx: CheckContext | None = None) -> str:
    blocking = report.blocking
    if blocking:
        files = {f.file for f in blocking if f.file}
        return f"{plural(len(blocking), 'blocking finding')} in {plural(len(files), 'file')}"
    warnings = [f for f in report.findings if f.waived is None and f.severity is Severity.WARNING]
    if warnings:
        files = {f.file for f in warnings if f.file}
        found = f"{plural(len(warnings), 'warning')} in {plural(len(files), 'file')}"
        return f"{found} (warnings block: failOnWarnings)" if ctx and ctx.fail_on_warnings else f"No blocking findings; {found}"
    if report.files_checked == 0:
        return "No Kubernetes manifests changed"
    return f"No policy violations in {plural(report.files_checked, 'manifest')}"


def check_annotations(report: Report, changed_paths: Collection[str]) -> list[dict[str, Any]]:
    """Every active finding in a changed file, at its line; findings elsewhere stay in the summary."""
    changed = set(changed_paths)
    out = []
    for f in report.sorted_findings():
        if f.waived is not None or not f.file or f.file not in changed:
            continue
        line = max(f.line, 1)
        annotation: dict[str, Any] = {
            "path": f.file,
            "start_line": line,
            "end_line": line,
            "annotation_level": ANNOTATION_LEVEL[f.severity],
            "message": _annotation_message(f),
            "title": f.rule[:255] or "gitops-policy-bot",
        }
        if f.remediation:
            annotation["raw_details"] = f.remediation[:MAX_ANNOTATION_MESSAGE_CHARS]
        out.append(annotation)
    return out


def batches(items: list[dict[str, Any]], size: int = MAX_ANNOTATIONS_PER_REQUEST) -> list[list[dict[str, Any]]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def inert(text: str) -> str:
    """Text a PR author wrote (waiver reasons), made harmless in markdown: no @mentions that ping
    people or teams, no HTML or images, one line."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("![", "!\\[")
    return text.replace("@", "@\u200b")


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """``text`` cut at a line boundary to fit ``limit``, saying how much was left out."""
    if len(text) <= limit:
        return text
    note = (f"\n\n_… output truncated: {{shown:,}} of {len(text):,} characters shown "
            f"(GitHub allows {limit:,} per check run field). The annotations and the PR comment list every finding._")
    budget = limit - len(note.format(shown=limit))
    cut = text.rfind("\n", 0, budget)
    cut = cut if cut > 0 else budget
    return text[:cut] + note.format(shown=cut)


def summary_markdown(report: Report, ctx: CheckContext) -> str:
    lines = [
        *counts_table(report.counts()),
        "",
        f"Checked {plural(report.files_checked, 'file')} with {plural(report.resources_checked, 'resource')}"
        + (f" against Kubernetes {report.kubernetes_version}." if report.kubernetes_version else "."),
    ]
    changed = set(ctx.changed_paths)
    outside = [f for f in report.blocking if f.file not in changed]
    if outside:
        lines += ["", f"{plural(len(outside), 'blocking finding')} concern files this change did not touch "
                      "(listed below, not annotated)."]
    if report.deleted:
        lines += ["", f"Deletes {plural(len(report.deleted), 'object')}: "
                  + ", ".join(f"`{r.display()}`" for r in report.deleted[:20])
                  + (" …" if len(report.deleted) > 20 else "")]
    if ctx.protection_warning:
        lines += ["", ctx.protection_warning]
    lines += policy_changes_markdown(report)
    if report.notices:
        lines += ["", "**Notes**", ""] + [f"- {n}" for n in report.notices]
    return truncate("\n".join(lines))


def policy_changes_markdown(report: Report) -> list[str]:
    changes = report.policy_changes
    if not changes:
        return []
    out = ["", "### Policy changes in this pull request", "",
           "They are compiled and tested here, but they judge only later changes (policies come from the base branch).",
           "", "| File | Policy | Result |", "| --- | --- | --- |"]
    for change in changes:
        result = "✅ passed" if change.get("passed") else f"❌ {_cell(change.get('error', '') or 'failed')}"
        file = table_cell(" ".join(code_span(str(change.get("file", ""))).split()))
        out.append(f"| `{file}` | {_cell(change.get('name', ''))} | {result} |")
    return out


def details_markdown(report: Report) -> str:
    """Every finding by file, with how to fix it; waived ones with their reason."""
    lines: list[str] = []
    current = None
    for f in report.sorted_findings():
        if f.waived is not None:
            continue
        if f.file != current:
            current = f.file
            lines += ["", f"### `{f.file or '(repository)'}`", ""]
        where = f"line {f.line}" if f.line else "file"
        shown = _unnamed_resource(f)
        resource = f" — `{shown}`" if shown else ""
        lines.append(f"- {SEVERITY_ICON[f.severity]} **{f.severity.label}** `{f.rule}` ({where}){resource}: {inert(f.message)}")
        if f.remediation:
            lines.append(f"  - Fix: {inert(f.remediation)}")
    waived = report.waived
    if waived:
        lines += ["", "### Waived", ""]
        lines += [f"- `{f.rule}` in `{f.file}` line {f.line}: {inert(f.waived.reason)} ({f.waived.kind}"
                  + (f" by {inert(f.waived.by)})" if f.waived.by else ")") for f in waived if f.waived]
    return truncate("\n".join(lines).strip())


def build_outputs(report: Report, ctx: CheckContext) -> list[CheckRunOutput]:
    """One output per request: the first carries the text, every one carries up to 50 annotations."""
    report = mask_report(report)
    head = title(report, ctx)
    summary = summary_markdown(report, ctx)
    items = check_annotations(report, ctx.changed_paths)
    if len(items) > MAX_ANNOTATIONS_TOTAL:
        summary = truncate(f"{summary}\n\nOnly the first {MAX_ANNOTATIONS_TOTAL} of {len(items)} findings in changed "
                           "files are annotated; the details below list them all.")
        items = items[:MAX_ANNOTATIONS_TOTAL]
    chunks = batches(items) or [[]]
    first = CheckRunOutput(head, summary, details_markdown(report), chunks[0])
    # GitHub appends the annotations of each update; title and summary must be sent every time.
    return [first] + [CheckRunOutput(head, summary, "", chunk) for chunk in chunks[1:]]


def _unnamed_resource(f: Finding) -> str:
    """The finding's object as shown, or "" when there is none or the message names it already.

    Policy messages usually name their object; then a prefix would only repeat it.
    """
    if f.resource is None or (f.resource.name and f.resource.name in f.message):
        return ""
    return f.resource.display()


def _annotation_message(f: Finding) -> str:
    shown = _unnamed_resource(f)
    message = f"{shown}: {f.message}" if shown else f.message
    return message[:MAX_ANNOTATION_MESSAGE_CHARS]


def _cell(text: str) -> str:
    """A table cell of PR-controlled text: inert (no mentions, HTML, images), one line, short."""
    return table_cell(inert(text), 500)
