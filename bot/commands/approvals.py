"""Approvals of policy findings: made by `/gitops approve-policies`, kept in the bot's own PR comments.

GitHub holds the record (DESIGN principle 2): the bot's reply carries a hidden
marker with the approver, the reason, the time and the fingerprints of the
findings it approved. Every evaluation reads the markers back and waives the
findings whose fingerprints match. A fingerprint leaves out the line, so an
unrelated edit above a finding keeps its approval; a new or changed finding
has a new fingerprint and needs a new approval.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.findings import Finding, Source, Waiver
from bot.core.report import Report

MARKER_PREFIX = "<!-- gitops-policy-bot:approval "
MARKER_SUFFIX = " -->"
MARKER_VERSION = 1
MAX_FINGERPRINTS = 1000


class CommentLike(Protocol):
    """What is needed of a PR comment: who wrote it and its text (bot.github.api.Comment fits)."""

    @property
    def body(self) -> str: ...

    @property
    def author(self) -> str: ...


@dataclass(frozen=True)
class Approval:
    approver: str  # login
    reason: str
    approved_at: str  # ISO 8601, UTC
    fingerprints: frozenset[str]
    head_sha: str = ""  # the commit whose findings were approved
    rules: tuple[str, ...] = ()  # as named in the command; () means all blocking policy findings

    def waiver(self) -> Waiver:
        return Waiver(kind="approval", reason=self.reason, by=self.approver)


def fingerprint(finding: Finding) -> str:
    """Rule + file + resource + message, never the line: what the finding says, not where it sits today."""
    res = finding.resource
    parts = [finding.rule, finding.file, *(res.key() if res else ("", "", "", "")), finding.message]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def approvable(report: Report, rules: Sequence[str] = ()) -> list[Finding]:
    """The blocking policy findings an approval would cover (only those of ``rules`` when given)."""
    wanted = set(rules)
    return [f for f in report.blocking if f.source == Source.POLICY and (not wanted or f.rule in wanted)]


def new_approval(findings: Iterable[Finding], *, approver: str, reason: str, approved_at: str,
                 head_sha: str = "", rules: Sequence[str] = ()) -> Approval:
    return Approval(approver, reason, approved_at, frozenset(fingerprint(f) for f in findings), head_sha,
                    tuple(rules))


def marker(approval: Approval) -> str:
    """The hidden first line of the approval reply. ``<``, ``>`` and ``&`` are escaped so no text can close it."""
    data = {"v": MARKER_VERSION, "approver": approval.approver, "reason": approval.reason,
            "at": approval.approved_at, "head": approval.head_sha, "rules": list(approval.rules),
            "fingerprints": sorted(approval.fingerprints)}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"{MARKER_PREFIX}{text}{MARKER_SUFFIX}"


def read_marker(body: str) -> Approval | None:
    """The approval a comment body starts with, or None (only the first line is ever read)."""
    first = body.split("\n", 1)[0].rstrip("\r")
    if not (first.startswith(MARKER_PREFIX) and first.endswith(MARKER_SUFFIX)):
        return None
    try:
        data: Any = json.loads(first[len(MARKER_PREFIX):-len(MARKER_SUFFIX)])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != MARKER_VERSION:
        return None
    prints = data.get("fingerprints")
    approver, reason, at, head = data.get("approver"), data.get("reason"), data.get("at"), data.get("head", "")
    if not (isinstance(approver, str) and isinstance(reason, str) and isinstance(at, str) and isinstance(head, str)):
        return None
    if not isinstance(prints, list):
        return None
    if len(prints) > MAX_FINGERPRINTS or not all(isinstance(p, str) for p in prints):
        return None
    rules = data.get("rules") or []
    return Approval(approver, reason, at, frozenset(prints), head, tuple(r for r in rules if isinstance(r, str)))


def approvals_in(comments: Iterable[CommentLike], bot_login: str) -> list[Approval]:
    """Approvals recorded by this App, oldest first. Markers in anyone else's comment are ignored.

    Without the App's login nothing is trusted: "any Bot" would include bots a
    pull request author controls (a workflow's github-actions[bot]).
    """
    if not bot_login:
        return []
    found = []
    for comment in comments:
        if comment.author != bot_login:
            continue
        approval = read_marker(comment.body)
        if approval is not None:
            found.append(approval)
    return found


def apply_approvals(report: Report, approvals: Sequence[Approval]) -> Report:
    """``report`` with approved blocking policy findings waived (the latest approval of a finding wins).

    A note for the check run says who approved what, when and why, and how many
    blocking policy findings no approval covers (they appeared or changed since).
    """
    if not approvals:
        return report
    by_print = {p: a for a in approvals for p in a.fingerprints}
    used: dict[Approval, int] = {}
    findings = []
    uncovered = 0
    for f in report.findings:
        if f.blocking and f.source == Source.POLICY:
            approval = by_print.get(fingerprint(f))
            if approval is not None:
                used[approval] = used.get(approval, 0) + 1
                f = f.with_(waived=approval.waiver())
            else:
                uncovered += 1
        findings.append(f)
    notices = list(report.notices)
    for approval, count in used.items():
        notices.append(f"{_findings(count)} approved by @{approval.approver} at {approval.approved_at}: "
                       f"{approval.reason}")
    if uncovered:
        notices.append(f"{_findings(uncovered)} appeared or changed since the last approval: they need a new "
                       "`approve-policies` command.")
    return dataclasses.replace(report, findings=findings, notices=notices)


def _findings(n: int) -> str:
    return f"{n} blocking policy finding{'' if n == 1 else 's'}"
