"""The commands the bot understands: names, aliases, usage and who may run them."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_COMMAND_PREFIX = "/gitops"  # comment commands start with it unless commands.prefix says otherwise


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str  # arguments after the name, for help and error replies
    summary: str
    who: str  # who may run it, as the help text says it
    aliases: tuple[str, ...] = ()
    needs_approver: bool = False  # write access, or a configured approver, and not the author


HELP = CommandSpec("help", "", "show this help", "anyone")
VALIDATE = CommandSpec("validate", "", "evaluate the pull request again now", "anyone", aliases=("check",))
PLAN = CommandSpec("plan", "[PATH...]", "show what this change does to the rendered objects (optionally only under PATHs)",
                   "anyone")
APPROVE = CommandSpec(
    "approve-policies", '[RULE...] [--sha SHA] --reason "..."',
    "waive the blocking policy findings reported now (all, or only RULEs) at the head you looked at "
    "(the head must be older than your comment, or named with --sha); a later push that adds or "
    "changes one needs a new approval",
    "users with write access or listed in `commands.approvers` (not the author, unless "
    "`commands.allowAuthorApproval`)",
    needs_approver=True,
)

COMMANDS: tuple[CommandSpec, ...] = (HELP, VALIDATE, PLAN, APPROVE)
BY_NAME: dict[str, CommandSpec] = {n: c for c in COMMANDS for n in (c.name, *c.aliases)}
