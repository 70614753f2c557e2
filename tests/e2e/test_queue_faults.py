"""Both queue modes under faults: queued work for an older head, a Redis restart (AOF), SIGTERM, final GitHub answers.

Real processes throughout: gunicorn accepting, `python -m bot.app.worker` evaluating (the
embedded SQLite queue's standalone worker, or an RQ worker), redis-server with appendonly,
the GitHub stand-in. Each test asserts the final check runs, comments and reviews.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rq.job import Job, JobStatus

from bot.app.queue.redis_queue import job_id_for
from bot.app.queue.sqlite_queue import SqliteQueue
from tests.e2e.pushes import (
    REPO,
    completed,
    deliver,
    head,
    open_pull,
    payload,
    reviews_on,
    serving_pushes,
    worker_process,
)
from tests.e2e.shop import SECRET, app_env
from tests.support.github_standin import GitHubStandIn
from tests.support.gunicorn import post_webhook, serve_gunicorn, wait_for
from tests.support.redis_server import RedisServer, redis_server

EARLIER, LATER = "2026-06-02T08:00:00Z", "2026-06-02T08:00:09Z"


@pytest.fixture(scope="module")
def standin() -> Iterator[GitHubStandIn]:
    with serving_pushes() as server:
        yield server


@pytest.fixture(scope="module")
def aof_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis-aof"), appendonly=True) as server:
        yield server


def mode_env(mode: str, standin: GitHubStandIn, data_dir: Path, aof_redis: RedisServer, **extra: str) -> dict[str, str]:
    """The web front only accepts; a separate worker process evaluates (as in a scaled deployment)."""
    if mode == "redis":
        redis.Redis.from_url(aof_redis.url).flushdb()
        return app_env(standin, str(data_dir), GITOPS_BOT_QUEUE="redis", GITOPS_BOT_REDIS_URL=aof_redis.url, **extra)
    return app_env(standin, str(data_dir), GITOPS_BOT_WORKER_THREADS="0", **extra)


def finished(mode: str, env: dict[str, str], delivery_id: str) -> Any:
    """The queue's final word on a delivery: the SQLite row once done/failed, the RQ job once finished/failed."""
    if mode == "redis":
        job = Job.fetch(job_id_for(delivery_id), connection=redis.Redis.from_url(env["GITOPS_BOT_REDIS_URL"]))
        return wait_for(lambda: job.get_status() in (JobStatus.FINISHED, JobStatus.FAILED) and job, timeout=90)
    queue = SqliteQueue(Path(env["GITOPS_BOT_DATA_DIR"]) / "queue.sqlite3", worker_threads=0)
    return wait_for(lambda: (s := queue.status(delivery_id)) and s["status"] in ("done", "failed") and s, timeout=90)


@pytest.mark.parametrize("mode", ["sqlite", "redis"])
def test_queued_work_for_an_older_head_is_dropped(mode: str, standin: GitHubStandIn, aof_redis: RedisServer,
                                                   tmp_path: Path) -> None:
    env = mode_env(mode, standin, tmp_path, aof_redis)
    suffix = "" if mode == "sqlite" else "-redis"
    number = 10 if mode == "sqlite" else 11
    pull = open_pull(standin, number, f"queued-old{suffix}")
    with serve_gunicorn(env) as web:
        old = deliver(web.url, payload(standin, pull, "opened", EARLIER))
        pull.head_sha = head(f"queued-new{suffix}")
        new = deliver(web.url, payload(standin, pull, "synchronize", LATER, before=head(f"queued-old{suffix}")))
        with worker_process(env, tmp_path / "worker.log"):  # no worker ran while both were queued
            [run] = completed(standin, f"queued-new{suffix}")
            finished(mode, env, old)
            finished(mode, env, new)

    assert run["conclusion"] == "success"
    old_sha = head(f"queued-old{suffix}")
    assert standin.runs_for(old_sha) == []
    assert standin.requests_to("GET", rf"/repos/{REPO}/git/trees/{old_sha}") == []  # not even read
    assert standin.comments_on(REPO, number) == [] and reviews_on(standin, number) == []
    assert f"pull_request.opened dropped: superseded by {head(f'queued-new{suffix}')}" in (
        tmp_path / "worker.log").read_text()


def test_jobs_accepted_before_a_redis_restart_are_processed_after_it(standin: GitHubStandIn, aof_redis: RedisServer,
                                                                      tmp_path: Path) -> None:
    env = mode_env("redis", standin, tmp_path, aof_redis)
    pulls = {20: open_pull(standin, 20, "restart-1"), 21: open_pull(standin, 21, "restart-2")}
    with serve_gunicorn(env) as web:
        deliveries = {n: deliver(web.url, payload(standin, p, "opened", EARLIER)) for n, p in pulls.items()}
        aof_redis.restart()  # everything Redis held lives on in its append-only file
        again = deliver_again(web.url, payload(standin, pulls[20], "opened", EARLIER), deliveries[20])
        with worker_process(env, tmp_path / "worker.log"):
            runs = {n: completed(standin, f"restart-{n - 19}") for n in pulls}
            for delivery_id in deliveries.values():
                finished("redis", env, delivery_id)
            wait_for(lambda: all(reviews_on(standin, n) for n in pulls), timeout=60)

    assert again == {"status": "duplicate"}  # the dedupe keys survived the restart too
    assert {n: [r["conclusion"] for r in found] for n, found in runs.items()} == {20: ["failure"], 21: ["failure"]}
    assert {n: len(standin.comments_on(REPO, n)) for n in pulls} == {20: 1, 21: 1}
    assert {n: len(reviews_on(standin, n)) for n in pulls} == {20: 1, 21: 1}


def deliver_again(url: str, body: dict[str, Any], delivery_id: str) -> Any:
    return post_webhook(url, "pull_request", body, SECRET, delivery_id).json()


def test_sigterm_stops_an_rq_worker_within_its_bound_and_hands_the_job_back(
    standin: GitHubStandIn, aof_redis: RedisServer, tmp_path: Path
) -> None:
    env = mode_env("redis", standin, tmp_path, aof_redis, GITOPS_BOT_WORKER_SHUTDOWN_SECONDS="1")
    pull = open_pull(standin, 30, "sigterm")
    gate = f"/git/trees/{head('sigterm')}"
    standin.hold(gate)  # the evaluation hangs on GitHub: only the shutdown bound can end it
    with serve_gunicorn(env) as web:
        delivery = deliver(web.url, payload(standin, pull, "opened", EARLIER))
        with worker_process(env, tmp_path / "first.log") as first:
            wait_for(lambda: any(gate in path for path in standin.held), timeout=90)
            first.terminate()
            code = first.wait(60)  # far beyond the 1 s bound; RQ alone would wait for the job forever
        job = Job.fetch(job_id_for(delivery), connection=redis.Redis.from_url(aof_redis.url))
        status, retries_left = job.get_status(), job.retries_left
        standin.release()
        with worker_process(env, tmp_path / "second.log"):
            [run] = completed(standin, "sigterm")
            finished("redis", env, delivery)
            wait_for(lambda: reviews_on(standin, 30), timeout=60)

    assert code == 0
    assert (status, retries_left) == (JobStatus.QUEUED, 2)  # handed back whole: a shutdown is not an attempt
    assert "handed back to the queue" in (tmp_path / "first.log").read_text()
    assert run["conclusion"] == "failure"  # the run the first attempt opened, continued and completed
    created = standin.requests_to("POST", rf"/repos/{REPO}/check-runs")
    assert [r.json["head_sha"] for r in created].count(head("sigterm")) == 1
    assert len(standin.comments_on(REPO, 30)) == 1 and len(reviews_on(standin, 30)) == 1


@pytest.mark.parametrize(("mode", "status"), [("sqlite", 410), ("sqlite", 422), ("redis", 404), ("redis", 422)])
def test_a_final_github_answer_ends_the_job_at_once_with_a_completed_check_run_saying_why(
    mode: str, status: int, standin: GitHubStandIn, aof_redis: RedisServer, tmp_path: Path
) -> None:
    env = mode_env(mode, standin, tmp_path, aof_redis)
    number = {("sqlite", 410): 40, ("sqlite", 422): 41, ("redis", 404): 42, ("redis", 422): 43}[(mode, status)]
    pull = open_pull(standin, number, f"refused-{number}")
    standin.fail_next(1, status=status, path_contains=f"/pulls/{number}/files")
    with serve_gunicorn(env) as web:
        delivery = deliver(web.url, payload(standin, pull, "opened", EARLIER))
        with worker_process(env, tmp_path / "worker.log"):
            outcome = finished(mode, env, delivery)
            [run] = completed(standin, f"refused-{number}")

    assert (run["conclusion"], run["output"]["title"]) == ("failure", "GitHub did not answer as expected")
    assert str(status) in run["output"]["summary"]
    assert len(standin.requests_to("GET", rf"/repos/{REPO}/pulls/{number}/files")) == 1  # never retried
    if mode == "redis":
        assert outcome.get_status() == JobStatus.FINISHED and outcome.return_value().startswith("failed: ")
    else:
        assert (outcome["status"], outcome["attempts"]) == ("failed", 1)
    assert "delivery failed for good, not retried" in (tmp_path / "worker.log").read_text()

