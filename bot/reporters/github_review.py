"""One review per evaluation: blocking findings on diff lines, with suggested changes where a fix is mechanical."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from bot.core.findings import Finding
from bot.core.masking import mask_report, mask_secrets
from bot.core.report import Report
from bot.core.suggestions import suggest
from bot.github.api import ReviewComment
from bot.github.diff import right_side_lines
from bot.pull.context import ChangedFile

MARKER_PREFIX = "<!-- gitops-policy-bot:finding:"
# A review with hundreds of comments is unreadable and GitHub may reject it; the check run lists the rest.
MAX_REVIEW_COMMENTS = 50


def finding_key(f: Finding) -> str:
    """Stable across pushes (no line number): the same problem keeps the same key while it is unfixed."""
    resource = f.resource.display() if f.resource else ""
    return hashlib.sha256(f"{f.rule}\0{f.file}\0{resource}\0{f.message}".encode()).hexdigest()[:16]


def marker(f: Finding) -> str:
    return f"{MARKER_PREFIX}{finding_key(f)} -->"


def comment_body(f: Finding, text: str | None, diff_lines: set[int]) -> str:
    parts = [f"**{f.rule}** ({f.severity.label}): {f.message}"]
    if f.remediation:
        parts.append(f.remediation)
    fix = suggest(f, text) if text is not None else None
    if fix is not None and all(n in diff_lines for n in range(fix.start_line, fix.end_line + 1)):
        parts.append(f"```suggestion\n{fix.replacement}\n```")
    parts.append(marker(f))
    return mask_secrets("\n\n".join(parts))


def plan(report: Report, changed: list[ChangedFile], read_text: Callable[[str], str | None]) -> list[ReviewComment]:
    """Review comments for blocking findings whose line is inside a hunk of the file's diff."""
    report = mask_report(report)
    by_path = {c.path: c for c in changed if c.status != "removed"}
    comments: list[ReviewComment] = []
    seen: set[str] = set()
    for f in report.blocking:
        change = by_path.get(f.file)
        if change is None or f.line < 1:
            continue
        lines = right_side_lines(change.patch)
        if f.line not in lines or finding_key(f) in seen:
            continue
        seen.add(finding_key(f))
        comments.append(ReviewComment(f.file, f.line, comment_body(f, read_text(f.file), lines)))
    return comments
