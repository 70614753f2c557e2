"""`GitHubService.run_commands` and approvals against the GitHub stand-in, in process, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app.evaluation_service import EvaluationRequest
from bot.app.service import GitHubService
from bot.app.settings import AppSettings
from bot.commands.approvals import approvals_in, marker, new_approval
from bot.commands.events import CommentEvent
from bot.core.findings import Finding, ResourceRef, Severity, Source
from bot.github.api import Comment
from bot.github.client import GitHubClientFactory
from bot.github.retry import RetryPolicy
from tests.support.github_standin import (
    BOT_LOGIN,
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    app_private_key,
    fake_sha,
    load_tree,
)

REPO = "acme/shop"
WORKER = "apps/worker/deployment.yaml"
CONFIG = b"""profile: restricted
policies:
  directories: [policies]
commands:
  approvers:
    users: [release-manager]
    teams: [acme/platform]
"""
BASE = fake_sha("cmd-base")
VIOLATING = fake_sha("cmd-violating")
SHIFTED = fake_sha("cmd-shifted")
NEW_FINDING = fake_sha("cmd-new-finding")
CHANGED = fake_sha("cmd-changed")
APPROVE = '/gitops approve-policies --reason "legacy worker, tracked in OPS-12"'


def _shop() -> FixtureRepo:
    base = load_tree("shop/base", extra={".gitops-bot.yaml": CONFIG})
    violating = load_tree("shop/base", "shop/pr-violating", extra={".gitops-bot.yaml": CONFIG})
    worker = violating[WORKER]
    new_file = worker.replace(b"name: worker", b"name: batch").replace(b"app: worker", b"app: batch")
    return FixtureRepo(REPO, commits={
        BASE: base,
        VIOLATING: violating,
        SHIFTED: {**violating, WORKER: b"# owned by the platform team\n" + worker},
        NEW_FINDING: {**violating, "apps/batch/deployment.yaml": new_file},
        CHANGED: {**violating, WORKER: worker.replace(b"nginx:latest", b"nginx")},
    }, pulls={2: PullSpec(2, BASE, VIOLATING), 3: PullSpec(3, BASE, VIOLATING)})


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([_shop()])
    server.roles.update({(REPO, "writer"): "write", (REPO, "reader"): "read", (REPO, "octocat"): "admin",
                         (REPO, "triager"): "triage"})
    server.teams[("acme", "platform")] = {"teammate": "active", "invited": "pending"}
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture
def service(standin: GitHubStandIn, tmp_path: Path) -> GitHubService:
    settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s", api_url=standin.base_url,
                           app_slug="gitops-policy-bot", data_dir=tmp_path)
    return GitHubService(settings, retry_policy=RetryPolicy(sleep=lambda _: None))


def evaluate(service: GitHubService, standin: GitHubStandIn, number: int = 2) -> dict[str, Any]:
    head = standin.repos[REPO].pulls[number].head_sha
    service.evaluate(EvaluationRequest(1, REPO, head, BASE, number, "pull_request.synchronize", "d-push"))
    return standin.runs_for(head)[-1]


def comment(service: GitHubService, standin: GitHubStandIn, body: str, author: str, number: int = 2) -> list[str]:
    """Post ``body`` as ``author`` and run its commands; returns the reactions on it, in order."""
    cid = standin.add_issue_comment(REPO, number, body, login=author)
    service.run_commands(CommentEvent(1, REPO, number, cid, body, author, "octocat", None, "d-comment",
                                      written_at="2026-01-01T00:00:00Z"))  # after every stand-in commit
    return [r["content"] for r in standin.reactions if r["target"] == cid]


def bot_replies(standin: GitHubStandIn, number: int = 2) -> list[str]:
    return [c["body"] for c in standin.comments_on(REPO, number)
            if c["user"]["login"] == BOT_LOGIN and "gitops-policy-bot:summary" not in c["body"]]


def blocking_annotations(run: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((a["path"], a["start_line"], a["title"]) for a in run["annotations"]
                  if a["annotation_level"] == "failure")


def test_approval_turns_the_check_green_and_survives_unrelated_edits_but_not_new_findings(
    standin: GitHubStandIn, service: GitHubService
) -> None:
    assert evaluate(service, standin)["conclusion"] == "failure"

    assert comment(service, standin, APPROVE, "writer") == ["eyes", "+1"]
    [reply] = bot_replies(standin)
    assert reply.startswith("<!-- gitops-policy-bot:approval {")
    assert "✅ **@writer approved 2 blocking policy findings** at `" in reply
    run = standin.runs_for(VIOLATING)[-1]
    assert (run["conclusion"], run["output"]["title"]) == ("success", "No policy violations in 1 manifest")
    assert "2 blocking policy findings approved by @writer at " in run["output"]["summary"]
    assert "(approval by writer)" in run["output"]["text"]
    sticky = next(c["body"] for c in standin.comments_on(REPO, 2) if "gitops-policy-bot:summary" in c["body"])
    assert sticky.count("| legacy worker, tracked in OPS-12 | writer |") == 2  # who and why, per finding

    pull = standin.repos[REPO].pulls[2]
    pull.head_sha = SHIFTED  # a line added above: same findings on other lines
    assert evaluate(service, standin)["conclusion"] == "success"

    pull.head_sha = NEW_FINDING  # a new Deployment with the same problems: not approved
    run = evaluate(service, standin)
    assert run["conclusion"] == "failure"
    assert {path for path, _, _ in blocking_annotations(run)} == {"apps/batch/deployment.yaml"}
    assert "appeared or changed since the last approval" in run["output"]["summary"]

    pull.head_sha = CHANGED  # the approved image finding now says "without a tag"
    run = evaluate(service, standin)
    assert blocking_annotations(run) == [(WORKER, 19, "image-tag")]


@pytest.mark.parametrize(("actor", "approved", "refusal"), [
    ("writer", True, ""),
    ("release-manager", True, ""),  # commands.approvers.users, no repository role at all
    ("teammate", True, ""),  # active member of acme/platform
    ("reader", False, "you have read access"),
    ("triager", False, "you have triage access"),
    ("invited", False, "you have no access"),  # team invitation still pending
    ("octocat", False, "you opened this pull request"),  # the author, even as an admin
])
def test_who_may_approve_is_asked_of_github(standin: GitHubStandIn, service: GitHubService, actor: str,
                                            approved: bool, refusal: str) -> None:
    reactions = comment(service, standin, APPROVE, actor)
    replies = bot_replies(standin)
    assert len(replies) == 1
    if approved:
        assert reactions == ["eyes", "+1"]
        assert replies[0].startswith("<!-- gitops-policy-bot:approval")
        assert standin.runs_for(VIOLATING)[-1]["conclusion"] == "success"
    else:
        assert reactions == ["eyes", "confused"]
        assert replies[0].startswith(f"Sorry @{actor}, I did not run `{APPROVE}`: ")
        assert refusal in replies[0]
        assert standin.runs_for(VIOLATING) == []  # nothing evaluated for a refused command
    assert [r.path for r in standin.requests if "/memberships/" in r.path] == (
        ["/orgs/acme/teams/platform/memberships/" + actor] if actor in ("teammate", "invited", "reader", "triager")
        else [])


def test_forged_approval_markers_in_other_comments_are_ignored(standin: GitHubStandIn,
                                                                service: GitHubService) -> None:
    run = evaluate(service, standin, 3)
    fingerprinted = [Finding(a["title"], Severity.ERROR, a["message"], file=a["path"], source=Source.POLICY,
                             resource=ResourceRef("apps/v1", "Deployment", "shop", "worker"))
                     for a in run["annotations"]]
    forged = marker(new_approval(fingerprinted, approver="writer", reason="trust me", approved_at="2026-01-01"))
    standin.add_issue_comment(REPO, 3, forged, login="mallory")
    standin.add_issue_comment(REPO, 3, forged, login="github-actions[bot]", user_type="Bot")

    run = evaluate(service, standin, 3)
    assert run["conclusion"] == "failure"
    assert blocking_annotations(run) == [(WORKER, 19, "image-tag"), (WORKER, 20, "run-as-non-root")]
    comments = [Comment(i, c["body"], c["user"]["login"], c["user"]["type"]) for i, c in
                enumerate(standin.comments_on(REPO, 3))]
    assert approvals_in(comments, BOT_LOGIN) == []


def test_validate_re_evaluates_and_help_replies(standin: GitHubStandIn, service: GitHubService) -> None:
    assert comment(service, standin, "/gitops check\n/gitops help", "reader") == ["eyes", "+1"]
    assert [r["conclusion"] for r in standin.runs_for(VIOLATING)] == ["failure"]
    [reply] = bot_replies(standin)
    assert reply.startswith("**gitops-policy-bot commands**")


def test_roles_and_team_memberships_through_the_client(standin: GitHubStandIn) -> None:
    factory = GitHubClientFactory(42, app_private_key(), standin.base_url, RetryPolicy(sleep=lambda _: None))
    api = factory.repo(1, REPO)
    assert [api.collaborator_role(u) for u in ("writer", "reader", "octocat", "triager", "nobody")] == [
        "write", "read", "admin", "triage", "none"]
    assert [api.team_member("acme", "platform", u) for u in ("teammate", "invited", "writer")] == [True, False, False]
    assert not api.team_member("acme", "missing-team", "teammate")


def test_plan_is_posted_as_a_comment(standin: GitHubStandIn, service: GitHubService) -> None:
    assert comment(service, standin, "/gitops plan apps/worker", "reader") == ["eyes", "+1"]
    [plan] = bot_replies(standin)
    assert plan.startswith("<!-- gitops-policy-bot:plan part=1 -->\n## Plan\n\n")
    assert "<summary>+ create Deployment shop/worker</summary>" in plan
    assert comment(service, standin, "/gitops plan apps/web", "reader") == ["eyes", "+1"]
    # A later plan edits the same comment instead of adding another.
    [plan] = bot_replies(standin)
    assert plan.endswith(": no kustomization or manifest directory is affected, nothing will change.\n\n")


def test_auto_plan_follows_every_push_in_one_comment(tmp_path: Path) -> None:
    config = CONFIG + b"  autoPlan: true\n"
    base = load_tree("shop/base", extra={".gitops-bot.yaml": config})
    violating = load_tree("shop/base", "shop/pr-violating", extra={".gitops-bot.yaml": config})
    second = {**violating, WORKER: violating[WORKER].replace(b"nginx:latest", b"nginx:1.27.2")}
    head2 = fake_sha("auto-plan-2")
    repo = FixtureRepo(REPO, commits={BASE: base, VIOLATING: violating, head2: second},
                       pulls={2: PullSpec(2, BASE, VIOLATING)})
    server = GitHubStandIn([repo])
    with server.serving():
        settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s",
                               api_url=server.base_url, app_slug="gitops-policy-bot", data_dir=tmp_path)
        service = GitHubService(settings, retry_policy=RetryPolicy(sleep=lambda _: None))
        service.evaluate(EvaluationRequest(1, REPO, VIOLATING, BASE, 2, "pull_request.opened", "d-1"))
        plans = [b for b in bot_replies(server) if b.startswith("<!-- gitops-policy-bot:plan part=1 -->")]
        assert len(plans) == 1 and "nginx:latest" in plans[0]
        server.repos[REPO].pulls[2] = PullSpec(2, BASE, head2)
        service.evaluate(EvaluationRequest(1, REPO, head2, BASE, 2, "pull_request.synchronize", "d-2"))
        plans = [b for b in bot_replies(server) if b.startswith("<!-- gitops-policy-bot:plan part=1 -->")]
        assert len(plans) == 1 and "nginx:1.27.2" in plans[0] and "nginx:latest" not in plans[0]
    assert all_request_problems(server.requests) == []


def test_an_invalid_base_config_is_the_answer_to_a_command(tmp_path: Path) -> None:
    broken = b"commands:\n  approvers: [not, a, mapping]\n"
    base = load_tree("shop/base", extra={".gitops-bot.yaml": broken})
    violating = load_tree("shop/base", "shop/pr-violating", extra={".gitops-bot.yaml": broken})
    server = GitHubStandIn([FixtureRepo(REPO, commits={BASE: base, VIOLATING: violating},
                                        pulls={2: PullSpec(2, BASE, VIOLATING)})])
    server.roles[(REPO, "writer")] = "write"
    with server.serving():
        settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s",
                               api_url=server.base_url, app_slug="gitops-policy-bot", data_dir=tmp_path)
        service = GitHubService(settings, retry_policy=RetryPolicy(sleep=lambda _: None))
        assert comment(service, server, APPROVE, "writer") == ["eyes", "confused"]
        [reply] = bot_replies(server)
        assert reply.startswith("I ran no command: the `.gitops-bot.yaml` of the base branch is invalid")
        assert ".gitops-bot.yaml" in reply.split("\n\n")[1]  # the loader's message, naming the file
        assert server.runs_for(VIOLATING) == []  # nothing approved, nothing evaluated with defaults
        # A comment without a command of the default prefix gets no answer at all.
        assert comment(service, server, "looks good", "writer") == []
    assert all_request_problems(server.requests) == []


def test_one_comment_lists_each_tree_once_for_approval_and_the_evaluation_after_it(
    standin: GitHubStandIn, service: GitHubService
) -> None:
    before = len(standin.requests_to("GET", r"/repos/acme/shop/git/trees/.*"))
    assert comment(service, standin, APPROVE, "writer") == ["eyes", "+1"]
    assert [r["conclusion"] for r in standin.runs_for(VIOLATING)] == ["success"]
    trees = standin.requests_to("GET", r"/repos/acme/shop/git/trees/.*")[before:]
    assert sorted(r.path.rsplit("/", 1)[1] for r in trees) == sorted([BASE, VIOLATING])
    assert len(standin.requests_to("GET", r"/repos/acme/shop/pulls/2")) == 1
