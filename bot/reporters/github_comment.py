"""The one sticky PR comment: found again by a hidden marker and edited in place, never posted twice."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.masking import mask_report, mask_secrets
from bot.core.report import Report
from bot.markdown_text import counts_table, table_cell
from bot.reporters.github_check import (
    DEFAULT_CHECK_NAME,
    inert,
    plural,
    policy_changes_markdown,
    title,
    truncate,
)

MARKER = "<!-- gitops-policy-bot:summary -->"
# Issue comment bodies are capped at 65,536 characters by GitHub.
MAX_COMMENT_CHARS = 65_536
MAX_LISTED_FINDINGS = 100
WAIVER_ANNOTATION = "gitops-bot.io/skip.<rule-id>"


@dataclass(frozen=True)
class CommentContext:
    html_url: str  # repository, e.g. https://github.com/acme/gitops
    head_sha: str
    check_name: str = DEFAULT_CHECK_NAME
    protection_warning: str = ""


def file_link(ctx: CommentContext, path: str, line: int) -> str:
    anchor = f"#L{line}" if line > 0 else ""
    label = f"{path}:{line}" if line > 0 else path
    if not ctx.html_url:  # a local preview: link the file relative to the current directory
        return f"[`{label}`]({path}{anchor})"
    return f"[`{label}`]({ctx.html_url}/blob/{ctx.head_sha}/{path}{anchor})"


def render(report: Report, ctx: CommentContext) -> str:
    """The comment body, masked and within GitHub's size limit; starts with the marker."""
    report = mask_report(report)
    icon = "❌" if report.blocking else "✅"
    lines = [
        MARKER,
        f"## {icon} {ctx.check_name}: {title(report)}",
        "",
        *counts_table(report.counts()),
    ]
    if ctx.protection_warning:
        lines += ["", ctx.protection_warning]
    blocking = report.blocking
    if blocking:
        lines += ["", "### Blocking findings", "", "| Where | Rule | Message |", "| --- | --- | --- |"]
        for f in blocking[:MAX_LISTED_FINDINGS]:
            lines.append(f"| {file_link(ctx, f.file, f.line)} | `{f.rule}` | {_cell(f.message)} |")
        if len(blocking) > MAX_LISTED_FINDINGS:
            lines.append(f"\n… and {plural(len(blocking) - MAX_LISTED_FINDINGS, 'more blocking finding')} "
                         "(see the check run).")
    waived = report.waived
    if waived:
        lines += ["", "### Waivers applied", "", "| Where | Rule | Reason | By |", "| --- | --- | --- | --- |"]
        for f in waived[:MAX_LISTED_FINDINGS]:
            w = f.waived
            assert w is not None
            by = w.by or w.kind
            lines.append(f"| {file_link(ctx, f.file, f.line)} | `{f.rule}` | {_cell(inert(w.reason))} | {_cell(inert(by))} |")
    lines += preexisting_markdown(report, ctx)
    lines += policy_changes_markdown(report)
    if blocking:
        lines += [
            "",
            "### How to fix or waive",
            "",
            "Fix the manifest (each finding in the check run says how), or, when a rule does not apply to one "
            "object, waive it there with a reason that reviewers will see:",
            "",
            "```yaml",
            "metadata:",
            "  annotations:",
            f'    {WAIVER_ANNOTATION}: "<reason>"',
            "```",
        ]
    lines += ["", f"<sub>Evaluated at {ctx.head_sha[:12]}. This comment is updated on every push.</sub>"]
    body = mask_secrets("\n".join(lines))
    return truncate(body, MAX_COMMENT_CHARS)


def preexisting_markdown(report: Report, ctx: CommentContext) -> list[str]:
    """Findings already on the base branch: listed so nobody is surprised, folded so they do not distract."""
    old = sorted(report.preexisting, key=lambda f: f.sort_key())
    if not old:
        return []
    out = ["", f"<details><summary>Already on the base branch: {plural(len(old), 'finding')} (not blocking)</summary>", "",
           "| Where | Rule | Message |", "| --- | --- | --- |"]
    out += [f"| {file_link(ctx, f.file, f.line)} | `{f.rule}` | {_cell(f.message)} |" for f in old[:MAX_LISTED_FINDINGS]]
    return [*out, "", "</details>"]


def should_comment(report: Report) -> bool:
    """A clean change gets no new comment (an existing one is still brought up to date)."""
    return bool(report.findings or report.policy_changes or report.preexisting)


def _cell(text: str) -> str:
    return table_cell(text, 1000)
