"""Who may run which command, decided against a hand-written fake of GitHub's answers."""

from __future__ import annotations

import pytest

from bot.commands.permissions import Approvers, decide
from bot.commands.spec import APPROVE, HELP, PLAN, VALIDATE


class FakeAccess:
    def __init__(self, roles: dict[str, str] | None = None, teams: dict[str, set[str]] | None = None) -> None:
        self.roles = roles or {}
        self.teams = teams or {}
        self.asked: list[str] = []

    def repo_role(self, login: str) -> str:
        self.asked.append(f"role {login}")
        return self.roles.get(login, "none")

    def in_team(self, org: str, team_slug: str, login: str) -> bool:
        self.asked.append(f"team {org}/{team_slug} {login}")
        return login in self.teams.get(f"{org}/{team_slug}", set())


ACCESS = FakeAccess({"admin1": "admin", "maint": "maintain", "writer": "write", "triager": "triage",
                     "reader": "read", "author": "admin"}, {"acme/platform": {"teammate"}})
CONFIGURED = Approvers(users=("Release-Manager",), teams=("acme/platform",))


@pytest.mark.parametrize(("actor", "approvers", "allowed", "reason"), [
    ("admin1", Approvers(), True, "admin access to the repository"),
    ("maint", Approvers(), True, "maintain access to the repository"),
    ("writer", Approvers(), True, "write access to the repository"),
    ("triager", Approvers(), False, "approving policy findings needs write access to the repository or a place in "
                                    "`commands.approvers` of `.gitops-bot.yaml`; you have triage access"),
    ("reader", Approvers(), False, "approving policy findings needs write access to the repository or a place in "
                                   "`commands.approvers` of `.gitops-bot.yaml`; you have read access"),
    ("stranger", Approvers(), False, "approving policy findings needs write access to the repository or a place "
                                     "in `commands.approvers` of `.gitops-bot.yaml`; you have no access"),
    ("release-manager", CONFIGURED, True, "listed in commands.approvers.users"),
    ("teammate", CONFIGURED, True, "member of acme/platform (commands.approvers.teams)"),
    ("author", Approvers(), False, "you opened this pull request, and its author cannot approve its own policy "
                                   "findings (`commands.allowAuthorApproval` is off): ask a reviewer"),
    ("author", Approvers(allow_author=True), True, "admin access to the repository"),
])
def test_who_may_approve(actor: str, approvers: Approvers, allowed: bool, reason: str) -> None:
    decision = decide(APPROVE, actor, "author", approvers, ACCESS)
    assert (decision.allowed, decision.reason) == (allowed, reason)


@pytest.mark.parametrize("spec", [HELP, VALIDATE, PLAN])
def test_anyone_may_run_the_read_only_commands_without_a_request(spec: object) -> None:
    access = FakeAccess()
    assert decide(spec, "stranger", "author", Approvers(), access).allowed  # type: ignore[arg-type]
    assert access.asked == []


def test_configured_users_need_no_request_and_teams_are_asked_last() -> None:
    access = FakeAccess(teams={"acme/platform": {"teammate"}})
    decide(APPROVE, "release-manager", "author", CONFIGURED, access)
    assert access.asked == []
    decide(APPROVE, "teammate", "author", CONFIGURED, access)
    assert access.asked == ["role teammate", "team acme/platform teammate"]
