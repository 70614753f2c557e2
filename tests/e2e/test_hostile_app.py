"""The App against hostile timing, payloads and trees: gunicorn, evaluation processes, the GitHub stand-in.

One test per guarantee: the web front answers while an evaluation holds the GIL; a
kill -9 mid-evaluation or a job that overruns never leaves a check run in progress;
an approval covers only what the approver saw; symlinks are never followed; payloads
and GitHub answers that can never work end at once, with a clear reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.app.queue.sqlite_queue import SqliteQueue
from tests.e2e.shop import SECRET, App, app_env, example, pull_request_payload
from tests.support.github_standin import (
    BOT_LOGIN,
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    blob_sha,
    fake_sha,
    load_tree,
)
from tests.support.gunicorn import GunicornServer, post_webhook, run_gunicorn, serve_gunicorn, wait_for

REPO = "acme/appsafety"
BASE = fake_sha("appsafety-base")
HUGE_KEY = "k" * 100_000
LINK = "apps/api/passwd.yaml"
LINK_TARGET = "../../../../../../etc/passwd"
COMMENTED_AT = "2026-06-01T12:00:00Z"
PUSHED_AFTER = "2026-06-01T12:00:10Z"
NUMBERS = {"crash": 1, "overrun": 2, "late-push": 3, "symlink": 4, "huge-key": 5, "gone": 6}


def head_of(name: str) -> str:
    return fake_sha(f"appsafety-{name}")


def huge_key_configmap() -> bytes:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\n  namespace: shop\ndata:\n"
            f"  ? {HUGE_KEY}\n  : '1'\n  ? {HUGE_KEY}\n  : '2'\n").encode()


def appsafety_repo() -> FixtureRepo:
    compliant, violating = load_tree("shop/base", "shop/pr-compliant"), load_tree("shop/base", "shop/pr-violating")
    trees = {"crash": compliant, "overrun": compliant, "late-push": violating, "symlink": compliant,
             "huge-key": {**compliant, "apps/huge/configmap.yaml": huge_key_configmap()}, "gone": compliant}
    commits = {BASE: load_tree("shop/base"), **{head_of(name): tree for name, tree in trees.items()}}
    pulls = {n: PullSpec(n, BASE, head_of(name)) for name, n in NUMBERS.items()}
    return FixtureRepo(REPO, commits=commits, pulls=pulls, protection={"main": ["GitOps policy"]},
                       commit_dates={head_of("late-push"): PUSHED_AFTER},
                       symlinks={head_of("symlink"): {LINK: LINK_TARGET}})


@pytest.fixture(scope="module")
def standin() -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([appsafety_repo()])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture(scope="module")
def app(standin: GitHubStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("appsafety-data")
    with serve_gunicorn(app_env(standin, str(data_dir))) as server:
        yield App(server.url, server, data_dir)


def pr_payload(standin: GitHubStandIn, name: str) -> dict[str, Any]:
    payload = pull_request_payload("opened", standin.repos[REPO].pulls[NUMBERS[name]], standin)
    payload["repository"].update(full_name=REPO, name=REPO.split("/")[1])
    for side in ("head", "base"):
        payload["pull_request"][side]["repo"]["full_name"] = REPO
    return payload


def deliver(url: str, event: str, payload: Any, expect: int = 202) -> str:
    delivery_id = str(uuid.uuid4())
    response = post_webhook(url, event, payload, SECRET, delivery_id)
    assert response.status_code == expect, response.text
    return delivery_id


def completed_runs(standin: GitHubStandIn, name: str) -> list[dict[str, Any]] | None:
    """All runs of the head once every one of them is completed (None while any is still open)."""
    runs = standin.runs_for(head_of(name))
    return runs if runs and all(r["status"] == "completed" for r in runs) else None


def run_text(run: dict[str, Any]) -> str:
    return "\n".join([str(run["output"]), *(str(a) for a in run["annotations"])])


# ---- evaluation never starves the web front ----------------------------------------------------------------


def test_healthz_and_webhooks_answer_while_an_evaluation_holds_the_gil(
    standin: GitHubStandIn, tmp_path: Path
) -> None:
    env = app_env(standin, str(tmp_path), GITOPS_BOT_SERVICE_FACTORY="tests.support.gil_service:make",
                  GITOPS_BOT_WORKER_THREADS="1")
    with run_gunicorn(env, workers=1, threads=2) as url:
        deliver(url, "pull_request", pr_payload(standin, "crash"))
        burner = int(wait_for(lambda: (tmp_path / "evaluation-running").exists()
                              and (tmp_path / "evaluation-running").read_text(), timeout=60))
        health = [requests.get(url + "/healthz", timeout=10) for _ in range(20)]
        acknowledged = post_webhook(url, "pull_request", pr_payload(standin, "overrun"), SECRET, "second-delivery")
        assert [r.status_code for r in health] == [200] * 20
        assert acknowledged.status_code == 202
        assert {r.json()["pid"] for r in health}.isdisjoint({burner})  # the burner is not the web process
        assert not (tmp_path / "evaluation-done").exists()  # ... and it was burning all along
        os.kill(burner, 0)  # still alive (raises if not)


# ---- check runs always end ----------------------------------------------------------------------------------


def test_kill_9_mid_evaluation_leaves_one_completed_check_run(standin: GitHubStandIn, tmp_path: Path) -> None:
    env = app_env(standin, str(tmp_path), GITOPS_BOT_JOB_LEASE_SECONDS="2", GITOPS_BOT_WORKER_THREADS="1")
    standin.hold("/git/trees/")  # the evaluation has created its check run and waits for the trees ...
    first = GunicornServer(env, workers=1)
    try:
        first.wait_healthy()
        deliver(first.url, "pull_request", pr_payload(standin, "crash"))
        wait_for(lambda: standin.runs_for(head_of("crash")) and standin.held, timeout=60)
        first.kill()  # ... when everything dies (SIGKILL: no cleanup)
    finally:
        first.stop()
        standin.release()
    assert [r["status"] for r in standin.runs_for(head_of("crash"))] == ["in_progress"]
    with run_gunicorn(env, workers=1):
        runs = wait_for(lambda: completed_runs(standin, "crash"), timeout=90)
    assert [(r["status"], r["conclusion"]) for r in runs] == [("completed", "success")]


def test_an_evaluation_that_overruns_its_timeout_completes_its_check_run(
    standin: GitHubStandIn, tmp_path: Path
) -> None:
    # Long enough for the evaluation process to start and open its check run on a loaded machine.
    env = app_env(standin, str(tmp_path), GITOPS_BOT_JOB_TIMEOUT_SECONDS="10", GITOPS_BOT_WORKER_THREADS="1")
    standin.hold("/git/trees/")  # GitHub hangs: the evaluation can never finish
    try:
        with serve_gunicorn(env, workers=1) as server:
            delivery = deliver(server.url, "pull_request", pr_payload(standin, "overrun"))
            runs = wait_for(lambda: completed_runs(standin, "overrun"), timeout=90)
            status = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0).status(delivery)
            log = server.output()
    finally:
        standin.release()
    assert [(r["conclusion"], r["output"]["title"]) for r in runs] == [("failure", "The evaluation did not finish")]
    assert "ran longer than 10 s" in runs[0]["output"]["summary"]
    assert (status["status"], status["attempts"]) == ("failed", 1)  # the same input would overrun again
    assert "delivery failed for good, not retried: the evaluation ran longer than 10 s" in log


# ---- approvals bound to what the approver saw ----------------------------------------------------------------


def comment_payload(standin: GitHubStandIn, body: str, created_at: str) -> dict[str, Any]:
    number = NUMBERS["late-push"]
    cid = standin.add_issue_comment(REPO, number, body, login="reviewer")
    payload = example("issue_comment.created")
    payload["repository"].update(full_name=REPO, name=REPO.split("/")[1])
    payload["issue"].update(number=number, pull_request={"url": f"{standin.base_url}/repos/{REPO}/pulls/{number}"})
    payload["issue"]["user"]["login"] = "octocat"
    payload["comment"].update(id=cid, body=body, created_at=created_at, updated_at=created_at)
    payload["comment"]["user"].update(login="reviewer", type="User")
    payload["sender"].update(login="reviewer", type="User")
    payload["installation"]["id"] = pr_payload(standin, "late-push")["installation"]["id"]
    return payload


def reactions(standin: GitHubStandIn, payload: dict[str, Any]) -> list[str] | None:
    found = [r["content"] for r in standin.reactions if r["target"] == payload["comment"]["id"]]
    return found if len(found) == 2 else None


def test_an_approval_does_not_cover_a_push_made_after_it_was_written(app: App, standin: GitHubStandIn) -> None:
    standin.roles[(REPO, "reviewer")] = "write"
    head = head_of("late-push")
    deliver(app.url, "pull_request", pr_payload(standin, "late-push"))
    assert [r["conclusion"] for r in wait_for(lambda: completed_runs(standin, "late-push"), 60)] == ["failure"]

    # Written at 12:00:00; the head it would approve was committed at 12:00:10.
    early = comment_payload(standin, '/gitops approve-policies --reason "looked fine"', COMMENTED_AT)
    deliver(app.url, "issue_comment", early)
    assert wait_for(lambda: reactions(standin, early), 60) == ["eyes", "confused"]
    bot_comments = [c["body"] for c in standin.comments_on(REPO, NUMBERS["late-push"]) if c["user"]["login"] == BOT_LOGIN]
    assert not any(b.startswith("<!-- gitops-policy-bot:approval") for b in bot_comments)
    [refusal] = [b for b in bot_comments if b.startswith("@reviewer: nothing approved")]
    assert f"the head commit `{head[:7]}` ({PUSHED_AFTER}) is newer than your comment ({COMMENTED_AT})" in refusal
    assert "need a new approval" in refusal
    assert [r["conclusion"] for r in standin.runs_for(head)] == ["failure"]

    # Naming the commit binds the approval to it.
    named = comment_payload(standin, f'/gitops approve-policies --sha {head[:7]} --reason "seen at {head[:7]}"',
                            COMMENTED_AT)
    deliver(app.url, "issue_comment", named)
    assert wait_for(lambda: reactions(standin, named), 60) == ["eyes", "+1"]
    runs = wait_for(lambda: (r := completed_runs(standin, "late-push")) and len(r) == 2 and r, 60)
    assert [r["conclusion"] for r in runs] == ["failure", "success"]


# ---- files stay inside ---------------------------------------------------------------------------------------


def test_a_symlink_in_the_tree_is_a_notice_and_never_read(app: App, standin: GitHubStandIn) -> None:
    deliver(app.url, "pull_request", pr_payload(standin, "symlink"))
    [run] = wait_for(lambda: completed_runs(standin, "symlink"), 60)
    assert run["conclusion"] == "success"
    assert f"skipped {LINK}: a symbolic link; links are not followed" in run["output"]["summary"]
    link_blob = blob_sha(LINK_TARGET.encode())
    assert link_blob not in standin.blobs_read(REPO)
    assert "etc/passwd" not in run_text(run)


# ---- payloads and answers that can never work ----------------------------------------------------------------


def test_a_huge_key_is_quoted_by_its_start_only(app: App, standin: GitHubStandIn) -> None:
    deliver(app.url, "pull_request", pr_payload(standin, "huge-key"))
    [run] = wait_for(lambda: completed_runs(standin, "huge-key"), 60)
    [annotation] = [a for a in run["annotations"] if a["path"] == "apps/huge/configmap.yaml"]
    assert annotation["message"].startswith("The key 'kkkk") and "…" in annotation["message"]
    assert "k" * 1000 not in run_text(run)


def test_a_signed_deeply_nested_body_is_a_bad_request(app: App) -> None:
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    response = post_webhook(app.url, "pull_request", body, SECRET, str(uuid.uuid4()))
    assert (response.status_code, response.json()["reason"]) == (400, "body is not a JSON object")


def test_a_check_run_payload_without_its_pull_request_base_is_refused(app: App) -> None:
    payload = example("check_run.rerequested")
    payload["check_run"].update(name="GitOps policy", pull_requests=[{"number": 1, "head": {"sha": "a" * 40}}])
    response = post_webhook(app.url, "check_run", payload, SECRET, str(uuid.uuid4()))
    assert response.status_code == 400
    assert response.json()["reason"] == "payload lacks check_run.pull_requests[0].base.sha"


def test_an_unknown_sha_is_not_retried(app: App, standin: GitHubStandIn) -> None:
    payload = pr_payload(standin, "gone")
    payload["pull_request"]["head"]["sha"] = fake_sha("never-pushed")
    delivery = deliver(app.url, "pull_request", payload)
    status = wait_for(lambda: (s := app.queue_status(delivery)) and s["status"] == "failed" and s, 60)
    assert status["attempts"] == 1
    assert "422" in status["last_error"]
    assert f"[{delivery}] pull_request delivery failed for good, not retried: GitHubRefusal" in app.server.output()


def test_an_uninstalled_installation_is_not_retried(app: App, standin: GitHubStandIn) -> None:
    standin.removed_installations.add(9999)
    payload = pr_payload(standin, "gone")
    payload["installation"]["id"] = 9999
    delivery = deliver(app.url, "pull_request", payload)
    status = wait_for(lambda: (s := app.queue_status(delivery)) and s["status"] == "failed" and s, 60)
    assert status["attempts"] == 1
    assert "GitHub refused a token for installation 9999: 404 (is the App still installed there?)" in status[
        "last_error"]
    assert standin.runs_for(head_of("gone")) == []
