"""Webhook in, check run / comment / review out: gunicorn + queue + GitHubService + the GitHub stand-in."""

from __future__ import annotations

from typing import Any

from tests.e2e.shop import (
    BASE,
    FORK,
    PULLS,
    REPO,
    SHAS,
    example,
    pull_request_payload,
    send,
)
from tests.support.github_standin import GitHubStandIn
from tests.support.gunicorn import wait_for

WORKER_FILE = "apps/worker/deployment.yaml"


def completed_runs(standin: GitHubStandIn, sha: str, count: int = 1) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        runs = [r for r in standin.runs_for(sha) if r["status"] == "completed"]
        return runs if len(runs) >= count else None

    runs = wait_for(done, timeout=60)
    return runs


def wait_requests(standin: GitHubStandIn, method: str, pattern: str, count: int = 1) -> None:
    """Wait for the App's last call of an evaluation (the check run completes before the comment and review)."""
    wait_for(lambda: len(standin.requests_to(method, pattern)) >= count, timeout=60)


def open_pull(app_url: str, standin: GitHubStandIn, name: str, action: str = "opened") -> None:
    pull = standin.repos[REPO].pulls[PULLS[name]]
    send(app_url, "pull_request", pull_request_payload(action, pull, standin))


def test_compliant_pull_request_gets_one_successful_check_run(app_url: str, standin: GitHubStandIn) -> None:
    open_pull(app_url, standin, "compliant")

    [run] = completed_runs(standin, SHAS["compliant"])
    wait_requests(standin, "GET", rf"/repos/acme/shop/issues/{PULLS['compliant']}/comments")
    assert (run["name"], run["conclusion"]) == ("GitOps policy", "success")
    assert run["output"]["title"] == "No policy violations in 1 manifest"
    assert standin.comments_on(REPO, PULLS["compliant"]) == []


def test_violating_pull_request_fails_with_annotations_and_one_sticky_comment(
    app_url: str, standin: GitHubStandIn
) -> None:
    number = PULLS["violating"]
    open_pull(app_url, standin, "violating")

    [run] = completed_runs(standin, SHAS["violating"])
    wait_requests(standin, "POST", rf"/repos/acme/shop/pulls/{number}/reviews")
    assert run["conclusion"] == "failure"
    blocking = sorted((a["path"], a["start_line"], a["title"]) for a in run["annotations"]
                      if a["annotation_level"] == "failure")
    assert blocking == [(WORKER_FILE, 19, "image-tag"), (WORKER_FILE, 20, "run-as-non-root")]
    [comment] = standin.comments_on(REPO, number)
    assert comment["body"].startswith("<!-- gitops-policy-bot:summary -->")
    assert f"/blob/{SHAS['violating']}/{WORKER_FILE}#L19" in comment["body"]
    reviews = [r for r in standin.reviews.values() if r["number"] == number]
    assert [[(c["path"], c["line"]) for c in r["comments"]] for r in reviews] == [[(WORKER_FILE, 19), (WORKER_FILE, 20)]]

    # A second push: a new check run on the new head, the same comment edited, no repeated review comments.
    pull = standin.repos[REPO].pulls[number]
    pull.head_sha = SHAS["violating-2"]
    send(app_url, "pull_request", pull_request_payload("synchronize", pull, standin))

    [run2] = completed_runs(standin, SHAS["violating-2"])
    wait_requests(standin, "GET", rf"/repos/acme/shop/pulls/{number}/comments", count=2)  # review de-duplication
    assert run2["conclusion"] == "failure"
    [comment_id] = [cid for cid, c in standin.issue_comments.items() if c["repo"] == REPO and c["number"] == number]
    assert f"/blob/{SHAS['violating-2']}/{WORKER_FILE}#L19" in standin.issue_comments[comment_id]["body"]
    assert len(standin.requests_to("POST", rf"/repos/acme/shop/issues/{number}/comments")) == 1
    assert len(standin.requests_to("PATCH", rf"/repos/acme/shop/issues/comments/{comment_id}")) == 1
    assert len([r for r in standin.reviews.values() if r["number"] == number]) == 1


def test_more_than_50_annotations_arrive_in_batches(app_url: str, standin: GitHubStandIn) -> None:
    open_pull(app_url, standin, "many")

    [run] = completed_runs(standin, SHAS["many"])
    wait_requests(standin, "POST", rf"/repos/acme/shop/pulls/{PULLS['many']}/reviews")
    total = len(run["annotations"])
    assert total > 100
    patches = standin.requests_to("PATCH", rf"/repos/acme/shop/check-runs/{run['id']}")
    sizes = [len(p.json["output"].get("annotations", [])) for p in patches]
    assert sizes == [50] * (total // 50) + ([total % 50] if total % 50 else [])
    assert {a["path"] for a in run["annotations"]} == {"apps/batch/jobs.yaml"}


def test_a_pull_request_editing_policies_is_not_judged_by_its_edits(app_url: str, standin: GitHubStandIn) -> None:
    open_pull(app_url, standin, "policy-edit")

    [run] = completed_runs(standin, SHAS["policy-edit"])
    assert run["conclusion"] == "success"  # the edited policy would deny replicas: 2
    assert "| `policies/replicas_test.rego` | test_one_replica_allowed | ✅ passed |" in run["output"]["summary"]


def test_merge_group_is_checked_on_the_merge_group_head(app_url: str, standin: GitHubStandIn) -> None:
    payload = example("merge_group.checks_requested")
    payload["installation"]["id"] = 77
    payload["repository"]["full_name"] = REPO
    payload["merge_group"].update(head_sha=SHAS["merge-group"], base_sha=BASE)
    send(app_url, "merge_group", payload)

    [run] = completed_runs(standin, SHAS["merge-group"])
    assert run["conclusion"] == "failure"
    assert run["head_sha"] == SHAS["merge-group"]
    assert standin.requests_to("GET", rf"/repos/acme/shop/compare/{BASE}\.\.\.{SHAS['merge-group']}")


def test_fork_pull_request_is_checked_on_its_head_sha_in_the_base_repository(
    app_url: str, standin: GitHubStandIn
) -> None:
    open_pull(app_url, standin, "fork")

    [run] = completed_runs(standin, SHAS["fork"])
    assert run["conclusion"] == "success"
    assert run["repo"] == REPO
    assert standin.repos[REPO].pulls[PULLS["fork"]].head_repo == FORK
    assert not [r for r in standin.requests if r.path.startswith(f"/repos/{FORK}")]


def test_github_errors_and_rate_limits_are_retried_to_the_right_result(app_url: str, standin: GitHubStandIn) -> None:
    number = PULLS["flaky"]
    standin.fail_next(1, status=502, path_contains=f"/pulls/{number}/files")
    standin.fail_next(1, status=403, retry_after=1, path_contains="/git/trees/")
    open_pull(app_url, standin, "flaky")

    [run] = completed_runs(standin, SHAS["flaky"])
    wait_requests(standin, "GET", rf"/repos/acme/shop/issues/{number}/comments")
    assert run["conclusion"] == "success"
    assert len(standin.requests_to("GET", rf"/repos/acme/shop/pulls/{number}/files")) == 2
    # The head tree is listed first; its first answer was a secondary rate limit.
    assert len(standin.requests_to("GET", rf"/repos/acme/shop/git/trees/{SHAS['flaky']}")) == 2
