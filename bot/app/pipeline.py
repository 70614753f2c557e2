"""One change to one verdict: evaluate, apply the recorded approvals, conclude. Reads only, never writes.

This is the App's whole judgement in one pure step, tested with `bot.pull.fake`
and no HTTP: `bot.app.service` builds the context of a delivery, calls
`evaluate_pull` and hands the `Verdict` to the publishers (`bot.app.publish`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bot.app.options import AppOptions
from bot.commands.approvals import Approval, apply_approvals, approvals_in, fingerprint
from bot.core.evaluate import EvalOptions
from bot.core.report import Report
from bot.core.workspace import Workspace
from bot.errors import GitOpsBotError
from bot.github.api import ReviewComment
from bot.pull.context import ChangedFile, PullRequestContext
from bot.pull.evaluate import evaluate_change
from bot.reporters import github_check, github_review


@dataclass(frozen=True)
class PipelineOptions:
    """What the operator decides for every evaluation: backends and catalogs, and whose approvals count."""

    eval_options: EvalOptions = field(default_factory=EvalOptions)
    bot_login: str = ""  # approvals are trusted only in comments of this login; "" trusts none


@dataclass(frozen=True)
class Verdict:
    """Everything the publishers need, decided: the report (approvals applied), its conclusion and title."""

    report: Report
    conclusion: str  # success | failure | neutral
    title: str
    changed: tuple[ChangedFile, ...]
    options: AppOptions
    approvals: tuple[Approval, ...] = ()  # approvals that waived at least one finding
    review_comments: tuple[ReviewComment, ...] = ()  # blocking findings on diff lines (pull requests only)

    @property
    def changed_paths(self) -> list[str]:
        """Head-side paths the change touched: the ones annotated."""
        return [c.path for c in self.changed if c.status != "removed"]


def evaluate_pull(ctx: PullRequestContext, options: PipelineOptions) -> Verdict:
    """Judge the change of ``ctx`` with the config and policies of its base; read-only."""
    facts = ctx.pull_facts()
    eval_options = dataclasses.replace(options.eval_options, pull_request=facts) if facts else options.eval_options
    report = evaluate_change(ctx, eval_options)
    report, used = with_approvals(ctx, report, options.bot_login)
    app = AppOptions.of(report.config.raw if report.config else None)
    check = github_check.CheckContext(neutral_on_warnings=app.neutral_on_warnings,
                                      fail_on_warnings=app.fail_on_warnings)
    changed = tuple(ctx.changed_files())
    review: tuple[ReviewComment, ...] = ()
    if ctx.pull_number() is not None and app.review_comments:
        head = ctx.workspace(ctx.head_sha())
        review = tuple(github_review.plan(report, list(changed), lambda path: _text(head, path)))
    return Verdict(report, github_check.conclusion(report, check), github_check.title(report, check), changed, app,
                   used, review)


def with_approvals(ctx: PullRequestContext, report: Report, bot_login: str) -> tuple[Report, tuple[Approval, ...]]:
    """Approvals live in the bot's own PR comments (`/gitops approve-policies`); only those are trusted."""
    if not report.blocking:
        return report, ()
    approvals = approvals_in(ctx.comments(), bot_login)
    if not approvals:
        return report, ()
    approved = apply_approvals(report, approvals)
    latest = {p: a for a in approvals for p in a.fingerprints}  # as `apply_approvals` decides: the latest wins
    used = {latest[fingerprint(f)] for f in approved.findings
            if f.waived is not None and f.waived.kind == "approval" and fingerprint(f) in latest}
    return approved, tuple(a for a in approvals if a in used)


def _text(workspace: Workspace, path: str) -> str | None:
    """The file a suggestion would edit; None (no suggestion, the comment stays) when it cannot be read."""
    try:
        data = workspace.read(path)
    except GitOpsBotError:  # e.g. over the blob read limit: the finding already says so
        return None
    return None if data is None else data.decode("utf-8", "replace")
