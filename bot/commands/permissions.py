"""Who may run a command: decided from the repository role, the configured approvers and the PR author."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.commands.spec import CommandSpec

# GitHub's repository roles that may approve (GET /repos/{o}/{r}/collaborators/{user}/permission, role_name).
APPROVER_ROLES = frozenset({"admin", "maintain", "write"})


class AccessQuestions(Protocol):
    """What the decision asks GitHub; implementations may cache but must answer for the current moment."""

    def repo_role(self, login: str) -> str:
        """admin | maintain | write | triage | read | none."""

    def in_team(self, org: str, team_slug: str, login: str) -> bool:
        """True only for an active (not pending) member."""


@dataclass(frozen=True)
class Approvers:
    """`commands.approvers` and `commands.allowAuthorApproval` of `.gitops-bot.yaml` at the base branch."""

    users: Sequence[str] = ()
    teams: Sequence[str] = ()  # "org/team-slug"
    allow_author: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # for the log, and for the refusal reply when not allowed


def decide(spec: CommandSpec, actor: str, pull_author: str, approvers: Approvers,
           access: AccessQuestions) -> Decision:
    """Cheap checks first: the author rule and the configured users need no request to GitHub."""
    if not spec.needs_approver:
        return Decision(True, "anyone may run it")
    if actor.lower() == pull_author.lower() and not approvers.allow_author:
        return Decision(False, "you opened this pull request, and its author cannot approve its own policy "
                               "findings (`commands.allowAuthorApproval` is off): ask a reviewer")
    if actor.lower() in {u.lower() for u in approvers.users}:
        return Decision(True, "listed in commands.approvers.users")
    role = access.repo_role(actor)
    if role in APPROVER_ROLES:
        return Decision(True, f"{role} access to the repository")
    for team in approvers.teams:
        org, _, slug = team.partition("/")
        if org and slug and access.in_team(org, slug, actor):
            return Decision(True, f"member of {team} (commands.approvers.teams)")
    has = "no access" if role in ("", "none") else f"{role} access"
    return Decision(False, f"approving policy findings needs write access to the repository or a place in "
                           f"`commands.approvers` of `.gitops-bot.yaml`; you have {has}")
