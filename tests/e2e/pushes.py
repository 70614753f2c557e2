"""A repository whose pull requests receive pushes, the deliveries GitHub sends for them, and worker processes.

Heads alternate between violating (a sticky comment and a review would appear) and
compliant trees, so any verdict published for a superseded head is visible.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.shop import SECRET, pull_request_payload
from tests.support.github_standin import (
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    fake_sha,
    load_tree,
)
from tests.support.gunicorn import REPO_ROOT, post_webhook, subprocess_env, wait_for

REPO = "acme/pushes"
BASE = fake_sha("pushes-base")
VIOLATING = ("old", "late", "reprocessed", "queued-old", "queued-old-redis", "restart-1", "restart-2",
             "sigterm", "refused-40", "refused-41", "refused-42", "refused-43")
COMPLIANT = ("new", "early", "queued-new", "queued-new-redis")


def head(name: str) -> str:
    return fake_sha(f"pushes-{name}")


def pushes_repo() -> FixtureRepo:
    violating, compliant = load_tree("shop/base", "shop/pr-violating"), load_tree("shop/base", "shop/pr-compliant")
    commits = {BASE: load_tree("shop/base"), **{head(n): violating for n in VIOLATING},
               **{head(n): compliant for n in COMPLIANT}}
    return FixtureRepo(REPO, commits=commits, protection={"main": ["GitOps policy"]})


@contextmanager
def serving_pushes() -> Iterator[GitHubStandIn]:
    """The stand-in serving `pushes_repo`; every request the App made is checked against GitHub's API description."""
    server = GitHubStandIn([pushes_repo()])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


def open_pull(standin: GitHubStandIn, number: int, name: str) -> PullSpec:
    pull = PullSpec(number, BASE, head(name))
    standin.repos[REPO].pulls[number] = pull
    return pull


def payload(standin: GitHubStandIn, pull: PullSpec, action: str, updated_at: str, before: str = "") -> dict[str, Any]:
    """The delivery GitHub sends for ``pull`` as it is now; ``updated_at`` orders deliveries of one PR."""
    body = pull_request_payload(action, pull, standin)
    body["repository"].update(full_name=REPO, name=REPO.split("/")[1])
    for side in ("head", "base"):
        body["pull_request"][side]["repo"]["full_name"] = REPO
    body["pull_request"]["updated_at"] = updated_at
    if action == "synchronize":
        body["before"] = before or BASE
    return body


def deliver(url: str, body: dict[str, Any], delivery_id: str = "") -> str:
    delivery_id = delivery_id or str(uuid.uuid4())
    response = post_webhook(url, "pull_request", body, SECRET, delivery_id)
    assert response.status_code == 202, response.text
    return delivery_id


def completed(standin: GitHubStandIn, name: str) -> list[dict[str, Any]]:
    """All check runs of a head, once there is one and every one is completed."""
    def done() -> list[dict[str, Any]] | None:
        runs = standin.runs_for(head(name))
        return runs if runs and all(r["status"] == "completed" for r in runs) else None

    found: list[dict[str, Any]] = wait_for(done, timeout=90)
    return found


def reviews_on(standin: GitHubStandIn, number: int) -> list[dict[str, Any]]:
    return [r for r in standin.reviews.values() if r["number"] == number]


@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m bot.app.worker` (RQ or the SQLite queue, as ``env`` says); SIGTERM and a bounded wait at the end."""
    with open(log, "ab") as out:
        worker = subprocess.Popen([sys.executable, "-m", "bot.app.worker"], cwd=REPO_ROOT, env=subprocess_env(env),
                                  stdout=subprocess.DEVNULL, stderr=out)
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
