"""One comment's commands end to end against a hand-written `CommandHost`: reactions, replies, evaluations."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.commands.approvals import Approval, apply_approvals, read_marker
from bot.commands.events import CommentEvent
from bot.commands.permissions import Approvers
from bot.commands.run import CommandSettings, run_commands
from bot.core.findings import Finding, ResourceRef, Severity, Source
from bot.core.report import Report
from bot.errors import GitOpsBotError

BOT = "gitops-policy-bot[bot]"
HEAD = "d" * 40
WORKER = ResourceRef("apps/v1", "Deployment", "shop", "worker")


def blocking(rule: str, line: int, source: str = Source.POLICY) -> Finding:
    return Finding(rule, Severity.ERROR, f"{rule} failed", file="apps/worker.yaml", line=line, source=source,
                   resource=WORKER)


class FakeHost:
    def __init__(self, findings: list[Finding], roles: dict[str, str] | None = None) -> None:
        self.findings = findings
        self.roles = roles or {}
        self.reactions: list[str] = []
        self.replies: list[str] = []
        self.evaluations = 0
        self.plans: list[tuple[str, ...]] = []
        self.plan_answer: int | None | Exception = None
        self.head_committed: datetime | None = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # before WRITTEN

    def approvals(self) -> list[Approval]:
        return [a for a in (read_marker(r) for r in self.replies) if a is not None]

    def react(self, content: str) -> None:
        self.reactions.append(content)

    def reply(self, body: str) -> None:
        self.replies.append(body)

    def repo_role(self, login: str) -> str:
        return self.roles.get(login, "none")

    def in_team(self, org: str, team_slug: str, login: str) -> bool:
        return False

    def current_report(self) -> tuple[Report, str]:
        return apply_approvals(Report(findings=list(self.findings)), self.approvals()), HEAD

    def committed_at(self, sha: str) -> datetime | None:
        return self.head_committed

    def evaluate(self) -> None:
        self.evaluations += 1

    def plan(self, paths: tuple[str, ...]) -> int | None:
        self.plans.append(paths)
        if isinstance(self.plan_answer, Exception):
            raise self.plan_answer
        return self.plan_answer


SETTINGS = CommandSettings("/gitops", Approvers(), BOT)
NOW = datetime(2026, 11, 26, 14, 5, 9, tzinfo=UTC)


WRITTEN = "2026-11-26T14:00:00Z"


def event(body: str, author: str = "reviewer", previous: str | None = None) -> CommentEvent:
    return CommentEvent(1, "acme/shop", 2, 555, body, author, "author", previous, "d-1", written_at=WRITTEN)


def run(host: FakeHost, body: str, author: str = "reviewer", previous: str | None = None,
        settings: CommandSettings = SETTINGS) -> list[tuple[str, bool]]:
    results = run_commands(event(body, author, previous), settings, host, lambda: NOW)
    return [(r.line, r.ok) for r in results]


def test_approval_records_the_findings_and_evaluates_once() -> None:
    host = FakeHost([blocking("image-tag", 19), blocking("run-as-non-root", 20)], {"reviewer": "write"})
    assert run(host, '/gitops approve-policies --reason "legacy worker"\n/gitops validate') == [
        ('/gitops approve-policies --reason "legacy worker"', True), ("/gitops validate", True)]
    assert host.reactions == ["eyes", "+1"]
    assert host.evaluations == 1
    [approval] = host.approvals()
    assert (approval.approver, approval.reason, approval.approved_at, approval.head_sha, len(approval.fingerprints)) \
        == ("reviewer", "legacy worker", "2026-11-26T14:05:09Z", HEAD, 2)
    assert host.current_report()[0].blocking == []


def test_named_rules_only_and_an_unknown_rule_is_refused_with_the_blocking_ones() -> None:
    host = FakeHost([blocking("image-tag", 19), blocking("run-as-non-root", 20)], {"reviewer": "admin"})
    run(host, "/gitops approve-policies image-tag --reason ok")
    assert [f.rule for f in host.current_report()[0].blocking] == ["run-as-non-root"]
    assert run(host, "/gitops approve-policies image-tags --reason ok") == [
        ("/gitops approve-policies image-tags --reason ok", False)]
    assert host.replies[-1] == ("@reviewer: nothing approved: no blocking policy finding of `image-tags` "
                                "(blocking policy rules now: `run-as-non-root`).")
    assert host.reactions[-2:] == ["eyes", "confused"]


def test_schema_findings_cannot_be_approved() -> None:
    host = FakeHost([blocking("schema/invalid", 5, Source.SCHEMA)], {"reviewer": "write"})
    assert run(host, "/gitops approve-policies --reason x") == [("/gitops approve-policies --reason x", False)]
    assert host.replies == ["@reviewer: there is no blocking policy finding to approve; 1 schema, parse or config "
                            "finding(s) block, and those can only be fixed."]
    assert host.evaluations == 0


def test_read_only_user_is_refused_politely_and_nothing_is_recorded() -> None:
    host = FakeHost([blocking("image-tag", 19)], {"reader": "read"})
    assert run(host, "/gitops approve-policies --reason mine", author="reader") == [
        ("/gitops approve-policies --reason mine", False)]
    assert host.approvals() == [] and host.evaluations == 0
    assert host.reactions == ["eyes", "confused"]
    assert host.replies == ["Sorry @reader, I did not run `/gitops approve-policies --reason mine`: approving policy "
                            "findings needs write access to the repository or a place in `commands.approvers` of "
                            "`.gitops-bot.yaml`; you have read access."]


def test_unknown_command_gets_the_closest_one_and_the_help() -> None:
    host = FakeHost([])
    assert run(host, "/gitops valdate") == [("/gitops valdate", False)]
    [reply] = host.replies
    assert reply.startswith("I did not run `/gitops valdate`: unknown command `valdate`. "
                            "Did you mean `/gitops validate`?\n\n**gitops-policy-bot commands**")
    assert "| `/gitops approve-policies [RULE...] [--sha SHA] --reason \"...\"` |" in reply
    assert host.reactions == ["eyes", "confused"]


def test_two_bad_commands_get_one_reply_with_the_help_once() -> None:
    host = FakeHost([])
    run(host, "/gitops valdate\n/gitops plan ../x")
    [reply] = host.replies
    assert reply.count("**gitops-policy-bot commands**") == 1
    assert reply.startswith("I did not run `/gitops valdate`: unknown command `valdate`. Did you mean "
                            "`/gitops validate`?\n\nI did not run `/gitops plan ../x`: `../x` is not a path inside "
                            "the repository.\n\n**gitops-policy-bot commands**")


def test_help_names_the_version_and_plan_says_it_is_not_available() -> None:
    host = FakeHost([])
    assert run(host, "/gitops help\n/gitops plan apps/web") == [("/gitops help", True), ("/gitops plan apps/web", False)]
    help_reply, = host.replies
    assert "<sub>gitops-policy-bot 0.1.0</sub>" in help_reply
    assert help_reply.endswith("`plan` is not available in this version of the bot yet.")
    assert host.plans == [("apps/web",)]


def test_plan_posts_through_the_host_and_a_failure_is_explained() -> None:
    host = FakeHost([])
    host.plan_answer = 2
    assert run(host, "/gitops plan") == [("/gitops plan", True)]
    assert host.plans == [()] and host.replies == [] and host.reactions == ["eyes", "+1"]
    host.plan_answer = GitOpsBotError("apps/web: kustomize <build> failed")
    assert run(host, "/gitops plan apps/web") == [("/gitops plan apps/web", False)]
    assert host.replies == ["I could not build the plan: apps/web: kustomize &lt;build&gt; failed"]


def test_comment_without_commands_gets_no_reaction() -> None:
    host = FakeHost([])
    assert run(host, "looks good, see `/gitops help`") == []
    assert host.reactions == [] and host.replies == []


def test_an_edit_runs_only_the_commands_it_added() -> None:
    host = FakeHost([])
    assert run(host, "/gitops validate\n/gitops help", previous="/gitops validate") == [("/gitops help", True)]
    assert host.evaluations == 0
    assert run(host, "/gitops validate (typo fixed)", previous="/gitops validate") == [
        ("/gitops validate (typo fixed)", False)]


def test_without_the_apps_login_approvals_are_refused() -> None:
    host = FakeHost([blocking("image-tag", 19)], {"reviewer": "write"})
    run(host, "/gitops approve-policies --reason x", settings=CommandSettings("/gitops", Approvers(), ""))
    assert host.approvals() == []
    assert host.replies == ["Sorry @reviewer, I did not run `/gitops approve-policies --reason x`: approvals need the "
                            "App's slug (GITOPS_BOT_APP_SLUG) so the bot can recognise its own records."]


def test_an_approval_written_before_the_head_commit_approves_nothing_and_says_why() -> None:
    host = FakeHost([blocking("privileged", 19)], {"reviewer": "write"})
    host.head_committed = datetime(2026, 11, 26, 14, 0, 5, tzinfo=UTC)  # pushed 5 s after the comment
    assert run(host, '/gitops approve-policies --reason "ok"') == [('/gitops approve-policies --reason "ok"', False)]
    assert host.approvals() == [] and host.evaluations == 0
    [reply] = host.replies
    assert reply.startswith("@reviewer: nothing approved: the head commit `ddddddd` (2026-11-26T14:00:05Z) is newer "
                            "than your comment (2026-11-26T14:00:00Z)")
    assert "need a new approval" in reply and "approve-policies --sha ddddddd" in reply


def test_naming_the_head_commit_binds_the_approval_to_it() -> None:
    host = FakeHost([blocking("privileged", 19)], {"reviewer": "write"})
    host.head_committed = None  # GitHub did not say: the explicit sha is enough
    assert run(host, '/gitops approve-policies --sha DDDDDDD --reason "seen"')[0][1] is True
    assert [a.head_sha for a in host.approvals()] == [HEAD]


def test_naming_another_commit_approves_nothing() -> None:
    host = FakeHost([blocking("privileged", 19)], {"reviewer": "write"})
    assert run(host, '/gitops approve-policies --sha 1234567 --reason "seen"')[0][1] is False
    assert host.approvals() == []
    assert host.replies[0].startswith("@reviewer: nothing approved: the pull request's head is now `ddddddd`, "
                                      "not `1234567`")


def test_a_comment_of_unknown_time_approves_nothing() -> None:
    host = FakeHost([blocking("privileged", 19)], {"reviewer": "write"})
    results = run_commands(CommentEvent(1, "acme/shop", 2, 555, '/gitops approve-policies --reason "x"', "reviewer",
                                        "author", None, "d-1"), SETTINGS, host, lambda: NOW)
    assert [r.ok for r in results] == [False]
    assert "I cannot tell when your comment was written" in host.replies[0]
