"""Handlers turn GitHub's published example payloads into exactly the right EvaluationRequests."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.app.handlers import dispatch, ignore_reason, route
from bot.app.settings import AppSettings

from .conftest import APP_ID, SLUG, load_example

SETTINGS = AppSettings(app_id=APP_ID, private_key="k", webhook_secret="s", app_slug=SLUG)
PR_HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
PR_BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
# The examples' pull request object, handed on as is (no second fetch of the pull request).
PR_PULL = {"number": 2, "head_sha": PR_HEAD, "base_sha": PR_BASE, "base_ref": "master",
           "html_url": "https://github.com/Codertocat/Hello-World/pull/2", "author": "Codertocat",
           "labels": ("bug",)}


class FakeService:
    """Records every request it is asked to evaluate."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def evaluate(self, request: Any) -> None:
        self.requests.append(dataclasses.asdict(request))


def run(event: str, payload: dict[str, Any], delivery_id: str = "d-1") -> tuple[str, list[dict[str, Any]]]:
    service = FakeService()
    result = dispatch(event, payload, delivery_id, service=service, settings=SETTINGS)
    return result, service.requests


def pr_request(trigger: str, delivery_id: str = "d-1", example: str = "") -> dict[str, Any]:
    payload = load_example(example or trigger)
    return {
        "installation_id": 1,
        "repo_full_name": "Codertocat/Hello-World",
        "head_sha": PR_HEAD,
        "base_sha": PR_BASE,
        "pull_number": 2,
        "trigger": trigger,
        "delivery_id": delivery_id,
        "head_repo_full_name": "Codertocat/Hello-World",
        "approvals_from": None,
        "pull": PR_PULL,
        # Who supersedes whom (bot.app.supersede): the pull request's updated_at, and a push's replaced head.
        "updated_at": payload["pull_request"]["updated_at"],
        "before_sha": payload.get("before", ""),
    }


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened", "ready_for_review"])
def test_pull_request_actions_evaluate_head_against_base(action: str) -> None:
    assert run("pull_request", load_example(f"pull_request.{action}")) == (
        "handled",
        [pr_request(f"pull_request.{action}")],
    )


def test_pull_request_from_a_fork_names_the_head_repository() -> None:
    payload = load_example("pull_request.opened")
    payload["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World"
    _, requests = run("pull_request", payload)
    assert requests[0]["head_repo_full_name"] == "forker/Hello-World"
    assert requests[0]["repo_full_name"] == "Codertocat/Hello-World"


def test_pull_request_edited_only_when_the_base_branch_changed() -> None:
    payload = load_example("pull_request.opened")
    payload["action"] = "edited"
    payload["changes"] = {"title": {"from": "old title"}}
    assert run("pull_request", payload) == ("ignored: pull request edited without a base branch change", [])
    payload["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "0" * 40}}}
    assert run("pull_request", payload) == ("handled", [pr_request("pull_request.edited", example="pull_request.opened")])


def test_pull_request_closed_is_not_routed() -> None:
    payload = load_example("pull_request.opened")
    payload["action"] = "closed"
    assert ignore_reason("pull_request", payload, SETTINGS) == "no handler for pull_request.closed"


def test_check_suite_requested_without_pull_requests_checks_the_whole_tree() -> None:
    assert run("check_suite", load_example("check_suite.requested")) == (
        "handled",
        [
            {
                "installation_id": 957387,
                "repo_full_name": "Codertocat/Hello-World",
                "head_sha": PR_BASE,  # the example's pushed head happens to be this sha
                "base_sha": None,
                "pull_number": None,
                "trigger": "check_suite.requested",
                "delivery_id": "d-1",
                "head_repo_full_name": "",
                "approvals_from": None,
                "pull": None,
                "updated_at": "",
                "before_sha": "",
            }
        ],
    )


def test_check_suite_rerequested_evaluates_each_pull_request() -> None:
    payload = load_example("check_suite.rerequested")
    payload["sender"]["login"] = "someone-else[bot]"  # the example's sender is our test App itself
    second = {**payload["check_suite"]["pull_requests"][0], "number": 7, "base": {"sha": "b" * 40}}
    payload["check_suite"]["pull_requests"].append(second)
    result, requests = run("check_suite", payload)
    assert result == "handled"
    assert [(r["pull_number"], r["base_sha"], r["head_sha"]) for r in requests] == [
        (2, PR_BASE, PR_HEAD),
        (7, "b" * 40, PR_HEAD),
    ]
    assert {r["trigger"] for r in requests} == {"check_suite.rerequested"}


def test_events_sent_by_this_app_are_ignored() -> None:
    payload = load_example("check_suite.rerequested")
    assert payload["sender"] == {**payload["sender"], "login": f"{SLUG}[bot]", "type": "Bot"}
    assert run("check_suite", payload) == ("ignored: event caused by this App", [])


def test_check_run_requested_action_on_our_check_run() -> None:
    assert run("check_run", load_example("check_run.requested_action")) == (
        "handled",
        [
            {
                "installation_id": 690857,
                "repo_full_name": "electron/electron",
                "head_sha": "5bd5f196a46b8222fb7484f05faba41a73cf34bd",
                "base_sha": "45eee468647309e9e6cdb2a88a3b460a59771fef",
                "pull_number": 26764,
                "trigger": "check_run.requested_action",
                "delivery_id": "d-1",
                "head_repo_full_name": "",
                "approvals_from": None,
                "pull": None,
                "updated_at": "",
                "before_sha": "",
            }
        ],
    )


def test_check_run_rerequested_of_another_app_is_ignored_unless_named_like_ours() -> None:
    payload = load_example("check_run.rerequested")  # app id 2, name "randscape"
    assert run("check_run", payload) == ("ignored: check run of another App", [])
    payload["check_run"]["name"] = SETTINGS.check_name
    result, requests = run("check_run", payload)
    assert result == "handled"
    assert [(r["head_sha"], r["base_sha"], r["pull_number"], r["trigger"]) for r in requests] == [
        ("d6fde92930d4715a2b49857d24b940956b26d2d3", None, None, "check_run.rerequested")
    ]


def test_merge_group_checks_the_queue_candidate() -> None:
    assert run("merge_group", load_example("merge_group.checks_requested")) == (
        "handled",
        [
            {
                "installation_id": 1,
                "repo_full_name": "octo-org/octo-repo",
                "head_sha": "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
                "base_sha": "380387fbc80638b734a49e1be1c4dfec1c01b33c",
                "pull_number": None,
                "trigger": "merge_group.checks_requested",
                "delivery_id": "d-1",
                "head_repo_full_name": "",
                # Approvals given on the queued PR (gh-readonly-queue/main/pr-104-…) apply in the queue too.
                "approvals_from": 104,
                "pull": None,
                "updated_at": "",
                "before_sha": "",
            }
        ],
    )


def test_issue_comment_is_accepted_but_evaluates_nothing_yet() -> None:
    assert run("issue_comment", load_example("issue_comment.created")) == ("handled", [])


def test_issue_comment_from_any_bot_is_ignored() -> None:
    payload = load_example("issue_comment.created")
    payload["sender"].update(login="renovate[bot]", type="Bot")
    assert run("issue_comment", payload) == ("ignored: comment by a bot", [])


def test_installation_events_are_logged_only() -> None:
    assert run("installation", load_example("installation.created")) == ("handled", [])
    assert route("installation_repositories", "added") is not None


@pytest.mark.parametrize(("event", "name"), [("ping", "ping"), ("push", "push")])
def test_unrouted_events_are_ignored(event: str, name: str) -> None:
    assert ignore_reason(event, load_example(name), SETTINGS) == f"no handler for {event}"
