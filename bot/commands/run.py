"""Run the commands of one comment: acknowledge, check who may, execute, answer. GitHub is behind `CommandHost`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.commands import messages
from bot.commands.approvals import approvable, new_approval
from bot.commands.events import CommentEvent
from bot.commands.parse import Command, CommandProblem, command_lines, parse_comment
from bot.commands.permissions import AccessQuestions, Approvers, decide
from bot.commands.spec import APPROVE, DEFAULT_COMMAND_PREFIX, HELP, PLAN, VALIDATE
from bot.core.findings import Source
from bot.core.report import Report
from bot.errors import GitOpsBotError

log = logging.getLogger(__name__)

EYES, DONE, CONFUSED = "eyes", "+1", "confused"


class CommandHost(AccessQuestions, Protocol):
    """The pull request the comment is on, as the commands need it."""

    def react(self, content: str) -> None:
        """Add a reaction (eyes, +1, confused) to the comment."""

    def reply(self, body: str) -> None:
        """Post a new comment on the pull request."""

    def current_report(self) -> tuple[Report, str]:
        """The findings at the PR head as the check shows them (approvals applied), and the head sha."""

    def committed_at(self, sha: str) -> datetime | None:
        """The committer date of ``sha`` (None when GitHub does not say)."""

    def evaluate(self) -> None:
        """Evaluate the PR now and publish the verdict, exactly like a push would."""

    def plan(self, paths: tuple[str, ...]) -> int | None:
        """Post the plan of the PR (only roots under ``paths`` when given); the comments posted, None if unsupported."""


@dataclass(frozen=True)
class CommandSettings:
    prefix: str
    approvers: Approvers
    bot_login: str  # approvals are only trusted from this login; "" disables approvals

    @classmethod
    def of(cls, raw: Mapping[str, Any], bot_login: str) -> CommandSettings:
        """`commands:` of a validated `.gitops-bot.yaml` (its ``raw`` mapping) at the base branch."""
        commands = raw.get("commands", {})
        approvers = commands.get("approvers", {})
        return cls(commands.get("prefix", DEFAULT_COMMAND_PREFIX),
                   Approvers(tuple(approvers.get("users", ())), tuple(approvers.get("teams", ())),
                             bool(commands.get("allowAuthorApproval", False))),
                   bot_login)


@dataclass(frozen=True)
class CommandResult:
    line: str
    ok: bool
    detail: str = ""


def new_commands(event: CommentEvent, prefix: str) -> list[Command | CommandProblem]:
    """The comment's commands; for an edit, only the lines that were not there before (those already ran)."""
    items = parse_comment(event.body, prefix)
    if event.previous_body is None:
        return items
    before = set(command_lines(event.previous_body, prefix))
    return [item for item in items if item.line not in before]


def run_commands(event: CommentEvent, settings: CommandSettings, host: CommandHost,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[CommandResult]:
    items = new_commands(event, settings.prefix)
    if not items:
        return []
    host.react(EYES)
    runner = _Runner(event, settings, host, now)
    results = [runner.run(item) for item in items]
    if runner.evaluate_after:
        host.evaluate()
    if any(isinstance(item, CommandProblem) for item in items):
        runner.replies.append(messages.help_text(settings.prefix))
    if runner.replies:
        host.reply("\n\n".join(runner.replies))
    host.react(DONE if all(r.ok for r in results) else CONFUSED)
    return results


def refuse_commands(event: CommentEvent, host: CommandHost, config_error: str) -> list[CommandResult]:
    """The base branch's `.gitops-bot.yaml` is invalid: answer every command with why, run none of them.

    Its prefix and approvers are unknown then, so the default prefix is what is recognised;
    running with default approvers could let someone approve whom the file meant to exclude.
    """
    items = new_commands(event, DEFAULT_COMMAND_PREFIX)
    if not items:
        return []
    host.react(EYES)
    host.reply(messages.config_error_reply(config_error))
    host.react(CONFUSED)
    return [CommandResult(item.line, False, config_error) for item in items]


class _Runner:
    """One comment's commands; collects the plain replies into one comment and evaluates at most once."""

    def __init__(self, event: CommentEvent, settings: CommandSettings, host: CommandHost,
                 now: Callable[[], datetime]) -> None:
        self.event, self.settings, self.host, self.now = event, settings, host, now
        self.replies: list[str] = []
        self.evaluate_after = False

    def run(self, item: Command | CommandProblem) -> CommandResult:
        prefix = self.settings.prefix
        if isinstance(item, CommandProblem):
            self.replies.append(messages.problem_reply(item, prefix))
            return CommandResult(item.line, False, item.message)
        decision = decide(item.spec, self.event.author, self.event.pull_author, self.settings.approvers, self.host)
        tag = f"[{self.event.delivery_id or '-'}] {self.event.repo_full_name}#{self.event.pull_number}"
        if not decision.allowed:
            log.warning("%s refused %r from %s: %s", tag, item.line, self.event.author, decision.reason)
            self.replies.append(messages.refusal_reply(self.event.author, item.line, decision.reason))
            return CommandResult(item.line, False, decision.reason)
        log.info("%s running %r from %s (%s)", tag, item.line, self.event.author, decision.reason)
        if item.spec is HELP:
            self.replies.append(messages.help_text(prefix))
        elif item.spec is VALIDATE:
            self.evaluate_after = True
        elif item.spec is PLAN:
            return self._plan(item)
        elif item.spec is APPROVE:
            return self._approve(item)
        return CommandResult(item.line, True)

    def _plan(self, command: Command) -> CommandResult:
        try:
            posted = self.host.plan(command.args)
        except GitOpsBotError as exc:  # bad input in the PR: the user sees why, the worker carries on
            self.replies.append(f"I could not build the plan: {messages.escape(str(exc))}")
            return CommandResult(command.line, False, str(exc))
        if posted is None:
            self.replies.append("`plan` is not available in this version of the bot yet.")
            return CommandResult(command.line, False, "plan not available")
        return CommandResult(command.line, True, f"{posted} plan comment(s)")

    def _approve(self, command: Command) -> CommandResult:
        if not self.settings.bot_login:
            reason = "approvals need the App's slug (GITOPS_BOT_APP_SLUG) so the bot can recognise its own records"
            self.replies.append(messages.refusal_reply(self.event.author, command.line, reason))
            return CommandResult(command.line, False, reason)
        report, head_sha = self.host.current_report()
        stale = self._head_newer_than_comment(command, head_sha)
        if stale:
            self.replies.append(f"@{self.event.author}: {stale}")
            return CommandResult(command.line, False, stale)
        unknown = _rules_not_blocking(report, command.args)
        findings = approvable(report, command.args)
        if unknown or not findings:
            reason = _nothing_to_approve(report, unknown)
            self.replies.append(f"@{self.event.author}: {reason}.")
            return CommandResult(command.line, False, reason)
        stamp = self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        approval = new_approval(findings, approver=self.event.author, reason=command.reason, approved_at=stamp,
                                head_sha=head_sha, rules=command.args)
        self.host.reply(messages.approval_reply(approval, findings))
        self.evaluate_after = True
        return CommandResult(command.line, True, f"approved {len(findings)}")


    def _head_newer_than_comment(self, command: Command, head_sha: str) -> str:
        """Why the approver cannot have seen the current head ("" when they can): an approval covers only that.

        With ``--sha`` the approver names the commit; without, the head must be older than the comment.
        A committer date is set by whoever made the commit, so ``--sha`` is the binding that cannot be
        bent; the date check catches the ordinary race (a push between the comment and its handling).
        """
        short = head_sha[:7]
        again = (f"Look at the findings now reported and approve again with "
                 f"`{self.settings.prefix} approve-policies --sha {short} --reason \"...\"`.")
        if command.sha:
            if head_sha.startswith(command.sha):
                return ""
            return (f"nothing approved: the pull request's head is now `{short}`, not `{command.sha}`; findings "
                    f"pushed since you looked need a new approval. {again}")
        written = _parse_time(self.event.written_at)
        if written is None:
            return f"nothing approved: I cannot tell when your comment was written. {again}"
        committed = self.host.committed_at(head_sha)
        if committed is None:
            return f"nothing approved: I cannot tell when the head commit `{short}` was made. {again}"
        if committed > written:
            return (f"nothing approved: the head commit `{short}` ({committed.strftime('%Y-%m-%dT%H:%M:%SZ')}) "
                    f"is newer than your comment ({written.strftime('%Y-%m-%dT%H:%M:%SZ')}), so findings it "
                    f"brings were not there when you wrote it and need a new approval. {again}")
        return ""


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _blocking_policy_rules(report: Report) -> list[str]:
    return sorted({f.rule for f in report.blocking if f.source == Source.POLICY})


def _rules_not_blocking(report: Report, rules: tuple[str, ...]) -> list[str]:
    blocking = set(_blocking_policy_rules(report))
    return [r for r in rules if r not in blocking]


def _nothing_to_approve(report: Report, unknown: list[str]) -> str:
    rules = _blocking_policy_rules(report)
    listed = ", ".join(f"`{r}`" for r in rules) or "none"
    if unknown:
        named = ", ".join(f"`{messages.escape(r)}`" for r in unknown)
        return f"nothing approved: no blocking policy finding of {named} (blocking policy rules now: {listed})"
    others = [f for f in report.blocking if f.source != Source.POLICY]
    if others:
        return (f"there is no blocking policy finding to approve; {len(others)} schema, parse or config "
                "finding(s) block, and those can only be fixed")
    return "there is no blocking policy finding to approve"
