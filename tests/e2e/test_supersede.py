"""Pushes, late deliveries and re-processed deliveries: the newest head wins and nothing is published twice.

gunicorn with the embedded queue, the real GitHubService, the GitHub stand-in;
each test asserts every check run of the heads involved, the sticky comment and
the reviews, so a verdict published for a superseded head (or twice) shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.pushes import REPO, completed, deliver, head, open_pull, payload, reviews_on, serving_pushes
from tests.e2e.shop import App, app_env
from tests.support.github_standin import GitHubStandIn
from tests.support.gunicorn import GunicornServer, serve_gunicorn, wait_for

EARLIER, LATER = "2026-06-01T12:00:00Z", "2026-06-01T12:00:05Z"


@pytest.fixture(scope="module")
def standin() -> Iterator[GitHubStandIn]:
    with serving_pushes() as server:
        yield server


@pytest.fixture(scope="module")
def app(standin: GitHubStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("pushes-data")
    with serve_gunicorn(app_env(standin, str(data_dir))) as server:
        yield App(server.url, server, data_dir)


def done(app: App, delivery_id: str) -> None:
    wait_for(lambda: (s := app.queue_status(delivery_id)) is not None and s["status"] == "done", timeout=90)


def test_a_push_during_an_evaluation_stops_it_from_publishing(app: App, standin: GitHubStandIn) -> None:
    pull = open_pull(standin, 1, "old")
    gate = f"/git/trees/{head('old')}"
    standin.hold(gate)  # the old head's evaluation waits on GitHub ...
    old = deliver(app.url, payload(standin, pull, "opened", EARLIER))
    wait_for(lambda: any(gate in path for path in standin.held), timeout=60)
    pull.head_sha = head("new")  # ... while a push arrives
    new = deliver(app.url, payload(standin, pull, "synchronize", LATER, before=head("old")))
    [new_run] = completed(standin, "new")
    done(app, new)
    standin.release()
    [old_run] = completed(standin, "old")
    done(app, old)

    assert (new_run["conclusion"], new_run["output"]["title"]) == ("success", "No policy violations in 1 manifest")
    assert (old_run["conclusion"], old_run["output"]["title"]) == ("cancelled", f"Superseded by {head('new')[:7]}")
    assert f"was superseded by {head('new')}" in old_run["output"]["summary"]
    assert old_run["annotations"] == []
    # The old head violates: had it published, a sticky comment and a review would be here.
    assert standin.comments_on(REPO, 1) == []
    assert reviews_on(standin, 1) == []
    assert f"pull_request.opened: check run {old_run['id']} in progress" in app.server.output()
    scraped = requests.get(app.url + "/metrics", timeout=10).text
    assert 'gitops_bot_evaluations_total{outcome="superseded"} 1.0' in scraped
    assert "gitops_bot_superseded_jobs_total 1.0" in scraped


def test_a_late_delivery_of_an_older_push_changes_nothing(app: App, standin: GitHubStandIn) -> None:
    pull = open_pull(standin, 2, "late")
    newer = deliver(app.url, payload(standin, pull, "synchronize", LATER, before=head("early")))
    [run] = completed(standin, "late")
    done(app, newer)
    [comment] = standin.comments_on(REPO, 2)
    requests_before = len(standin.requests)

    pull.head_sha = head("early")
    stale = payload(standin, pull, "synchronize", EARLIER)  # GitHub sent it first; it arrives last
    pull.head_sha = head("late")
    late = deliver(app.url, stale)
    done(app, late)

    assert run["conclusion"] == "failure"
    assert standin.runs_for(head("early")) == []  # dropped before any check run was created
    assert standin.comments_on(REPO, 2) == [comment]
    assert f"/blob/{head('late')}/" in comment["body"]
    assert len(reviews_on(standin, 2)) == 1
    writes = [r for r in standin.requests[requests_before:] if r.method != "GET" and r.path.startswith("/repos/")]
    assert writes == []  # nothing written to the repository
    assert f"[{late}] {REPO}@{head('early')[:7]} pull_request.synchronize dropped: superseded by {head('late')}" in (
        app.server.output())


def test_a_delivery_reprocessed_after_a_crash_publishes_nothing_twice(standin: GitHubStandIn, tmp_path: Path) -> None:
    """kill -9 after the check run and the comment are out, while the review is on its way."""
    env = app_env(standin, str(tmp_path), GITOPS_BOT_WORKER_THREADS="1", GITOPS_BOT_JOB_LEASE_SECONDS="2")
    pull = open_pull(standin, 3, "reprocessed")
    gate = f"/pulls/{pull.number}/reviews"
    standin.hold(gate)
    first = GunicornServer(env)
    try:
        first.wait_healthy()
        delivery = deliver(first.url, payload(standin, pull, "opened", EARLIER))
        wait_for(lambda: any(gate in path for path in standin.held), timeout=90)
        first.kill()
    finally:
        first.stop()
    standin.release()  # the review GitHub had already received lands
    wait_for(lambda: reviews_on(standin, 3), timeout=30)

    with serve_gunicorn(env) as second:
        app = App(second.url, second, tmp_path)
        done(app, delivery)
        status = app.queue_status(delivery)

    [run] = completed(standin, "reprocessed")
    assert status is not None
    assert (run["conclusion"], status["attempts"]) == ("failure", 2)
    created = standin.requests_to("POST", rf"/repos/{REPO}/check-runs")
    assert [r.json["head_sha"] for r in created].count(head("reprocessed")) == 1
    assert len(standin.comments_on(REPO, 3)) == 1
    assert len(standin.requests_to("POST", rf"/repos/{REPO}/issues/3/comments")) == 1
    assert len(reviews_on(standin, 3)) == 1
