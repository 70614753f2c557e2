"""The text of every reply the bot posts for a command."""

from __future__ import annotations

from collections.abc import Sequence

import bot
from bot.commands.approvals import Approval, marker
from bot.commands.parse import CommandProblem
from bot.commands.spec import COMMANDS
from bot.core.findings import Finding
from bot.markdown_text import code_span, table_cell

MAX_LISTED = 50


def help_text(prefix: str) -> str:
    rows = ["| Command | What it does | Who may run it |", "| --- | --- | --- |"]
    for spec in COMMANDS:
        usage = f"{prefix} {spec.name}" + (f" {spec.usage}" if spec.usage else "")
        aliases = "".join(f" (or `{prefix} {a}`)" for a in spec.aliases)
        rows.append(f"| `{_cell(usage)}`{aliases} | {spec.summary} | {spec.who} |")
    return "\n".join([
        "**gitops-policy-bot commands** (one per line, outside code blocks and quotes):", "", *rows, "",
        f"<sub>gitops-policy-bot {bot.__version__}</sub>",
    ])


def problem_reply(problem: CommandProblem, prefix: str) -> str:
    """One line per bad command; the runner adds the help text once after them."""
    hint = f" Did you mean `{prefix} {problem.suggestion}`?" if problem.suggestion else ""
    return f"I did not run `{_code(problem.line)}`: {problem.message}.{hint}"


def refusal_reply(actor: str, line: str, reason: str) -> str:
    return f"Sorry @{actor}, I did not run `{_code(line)}`: {reason}."


def approval_reply(approval: Approval, findings: Sequence[Finding]) -> str:
    """Starts with the marker (the record); the rest is for people."""
    n = len(findings)
    lines = [
        marker(approval),
        f"✅ **@{approval.approver} approved {n} blocking policy finding{'' if n == 1 else 's'}** "
        f"at `{approval.head_sha[:7]}` ({approval.approved_at}).",
        "",
        f"**Reason:** {escape(approval.reason)}",
        "",
        "| Rule | Where | Object |",
        "| --- | --- | --- |",
    ]
    for f in findings[:MAX_LISTED]:
        where = f"{f.file}:{f.line}" if f.line else f.file
        obj = f.resource.display() if f.resource else ""
        lines.append(f"| `{_cell(f.rule)}` | `{_cell(where)}` | {_cell(obj)} |")
    if n > MAX_LISTED:
        lines.append(f"\n… and {n - MAX_LISTED} more.")
    lines += ["", "A later push that adds a blocking policy finding, or changes one of these, needs a new approval."]
    return "\n".join(lines)


def config_error_reply(error: str) -> str:
    """Commands are not run while the base branch's config is invalid: say which file and what to fix."""
    return ("I ran no command: the `.gitops-bot.yaml` of the base branch is invalid, so I do not know this "
            f"repository's command prefix and approvers.\n\n> {escape(error)}\n\n"
            "Fix the file on the base branch (the check run shows the same error), then comment again.")


def escape(text: str) -> str:
    """User text shown in the bot's comments: no HTML (so no fake markers), no table breaks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return table_cell(escape(text))


def _code(text: str) -> str:
    return code_span(escape(text))[:200]
