"""The Redis + RQ backend end to end: real redis-server, gunicorn front, `python -m bot.app.worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from rq import Retry
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus

from bot.app.queue.redis_queue import DEDUPE_KEY_PREFIX, RedisQueue, job_id_for
from bot.app.settings import AppSettings
from tests.support.ending_service import read_lines
from tests.support.gunicorn import REPO_ROOT, free_port, post_webhook, run_gunicorn, subprocess_env, wait_for
from tests.support.recording_service import read_records
from tests.support.redis_server import running_redis

from .conftest import SECRET, base_env, load_example


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def worker_env(private_key_pem: str, tmp_path: Path, redis_url: str) -> dict[str, str]:
    redis.Redis.from_url(redis_url).flushdb()
    return base_env(private_key_pem, tmp_path, GITOPS_BOT_QUEUE="redis", GITOPS_BOT_REDIS_URL=redis_url)


def test_deliveries_flow_through_redis_to_an_rq_worker(worker_env: dict[str, str], tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.app.worker"],
        cwd=REPO_ROOT,
        env=subprocess_env(worker_env),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    try:
        with run_gunicorn(worker_env, workers=1) as url:
            ready = requests.get(url + "/readyz", timeout=5)
            assert (ready.status_code, ready.json()) == (200, {"status": "ready", "queue": "redis"})
            pr = post_webhook(url, "pull_request", load_example("pull_request.opened"), SECRET, "r-1")
            group = post_webhook(
                url, "merge_group", load_example("merge_group.checks_requested"), SECRET, "r-2"
            )
            again = post_webhook(url, "pull_request", load_example("pull_request.opened"), SECRET, "r-1")
            assert [pr.status_code, group.status_code, again.status_code] == [202, 202, 200]
            assert again.json() == {"status": "duplicate"}
            records = wait_for(
                lambda: (
                    len(read_records(tmp_path / "requests.jsonl")) >= 2
                    and read_records(tmp_path / "requests.jsonl")
                )
            )
    finally:
        worker.terminate()
        worker.wait(20)
    assert sorted((r["delivery_id"], r["trigger"], r["head_sha"], r["base_sha"]) for r in records) == [
        (
            "r-1",
            "pull_request.opened",
            "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        ),
        (
            "r-2",
            "merge_group.checks_requested",
            "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
            "380387fbc80638b734a49e1be1c4dfec1c01b33c",
        ),
    ]
    connection = redis.Redis.from_url(worker_env["GITOPS_BOT_REDIS_URL"])
    assert connection.ttl(DEDUPE_KEY_PREFIX + "r-1") > 0  # dedupe keys expire


def test_job_ids_derive_from_delivery_ids() -> None:
    assert (
        job_id_for("72d3162e-cc78-11e3-81ab-4c9367dc0958") == "delivery-72d3162e-cc78-11e3-81ab-4c9367dc0958"
    )
    assert job_id_for("weird id/with:chars") == job_id_for("weird id/with:chars")
    assert (
        job_id_for("weird id/with:chars").startswith("delivery-")
        and len(job_id_for("weird id/with:chars")) == 49
    )


def test_readyz_is_503_when_redis_is_unreachable(private_key_pem: str, tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    env = base_env(private_key_pem, tmp_path, GITOPS_BOT_QUEUE="redis", GITOPS_BOT_REDIS_URL=closed)
    with run_gunicorn(env, workers=1) as url:
        ready = requests.get(url + "/readyz", timeout=10)
        assert (ready.status_code, ready.json()) == (
            503,
            {"status": "unavailable", "queue": "redis", "reason": "redis queue unreachable"},
        )
        lost = post_webhook(url, "pull_request", load_example("pull_request.opened"), SECRET, "r-down")
        assert (lost.status_code, lost.json()) == (503, {"status": "error", "reason": "queue unavailable"})


def test_a_job_given_up_by_rq_completes_its_open_check_run_once(worker_env: dict[str, str], tmp_path: Path) -> None:
    """After RQ's last attempt (an error, a timeout, a dead work horse) or at once for a final answer."""
    records = tmp_path / "ending.jsonl"
    env = {**worker_env, "GITOPS_BOT_SERVICE_FACTORY": "tests.support.ending_service:make",
           "GITOPS_TEST_RECORD_FILE": str(records), "GITOPS_BOT_JOB_LEASE_SECONDS": "2"}  # the RQ job timeout
    queue = RedisQueue(AppSettings.from_env(env), retry=Retry(max=2, interval=0))
    deliveries = ["raise-1", "die-1", "slow-1", "refuse-1"]
    for delivery_id in deliveries:
        assert queue.enqueue(delivery_id, "pull_request", load_example("pull_request.opened"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.app.worker"],
        cwd=REPO_ROOT,
        env=subprocess_env(env),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    try:
        jobs = [Job.fetch(job_id_for(d), connection=queue.connection) for d in deliveries]
        wait_for(lambda: all(job.get_status() in (JobStatus.FAILED, JobStatus.FINISHED) for job in jobs), timeout=120)
        lines = read_lines(records)
    finally:
        worker.terminate()
        worker.wait(20)
        queue.stop()
    starts = {d: sum(1 for r in lines if (r["phase"], r["delivery_id"]) == ("start", d)) for d in deliveries}
    assert starts == {"raise-1": 3, "die-1": 3, "slow-1": 3, "refuse-1": 1}  # 2 retries, none for a final answer
    abandoned = sorted((r["delivery_id"], r["reason"]) for r in lines if r["phase"] == "abandon")
    assert abandoned == [
        ("die-1", "the process running it died (signal 9) on the last attempt"),
        ("raise-1", "it failed on every attempt, the last time with RuntimeError"),
        ("refuse-1", "Refused: GitHub refused: 422 No commit found for SHA"),
        ("slow-1", "the evaluation ran longer than 2 s and was stopped (GITOPS_BOT_JOB_LEASE_SECONDS)"),
    ]
    head_sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert {r["head_sha"] for r in lines} == {head_sha}
    assert [r["phase"] for r in lines if r["delivery_id"] == "raise-1"] == ["start"] * 3 + ["abandon"]


def _rq_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot.app.worker"], cwd=REPO_ROOT, env=subprocess_env(env),
                            stdout=subprocess.DEVNULL, stderr=open(log_path, "wb"))  # noqa: SIM115 - closed with it


def test_an_rq_worker_keeps_its_evaluation_process_from_one_job_to_the_next(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    """No work horse per job: both deliveries are evaluated by the same child of the worker (its caches stay)."""
    queue = RedisQueue(AppSettings.from_env(worker_env))
    worker = _rq_worker(worker_env, tmp_path / "worker.log")
    try:
        assert queue.enqueue("keep-1", "pull_request", load_example("pull_request.opened"))
        wait_for(lambda: len(read_records(tmp_path / "requests.jsonl")) == 1)
        assert queue.enqueue("keep-2", "pull_request", load_example("pull_request.opened"))
        records = wait_for(lambda: len(read_records(tmp_path / "requests.jsonl")) == 2
                           and read_records(tmp_path / "requests.jsonl"))
        alive = worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(20)
        queue.stop()
    assert alive
    assert [r["delivery_id"] for r in records] == ["keep-1", "keep-2"]
    assert records[0]["pid"] == records[1]["pid"] != worker.pid
    assert {r["ppid"] for r in records} == {worker.pid}


def test_an_evaluation_process_killed_mid_job_is_replaced_and_the_job_retried(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    """SIGKILL of the evaluation process: the worker survives, the attempt fails, the retry runs in a fresh one."""
    env = {**worker_env, "GITOPS_TEST_SERVICE_SLEEP": "3"}
    queue = RedisQueue(AppSettings.from_env(env), retry=Retry(max=1, interval=0))
    records = tmp_path / "requests.jsonl"
    worker = _rq_worker(env, tmp_path / "worker.log")
    try:
        assert queue.enqueue("crash-1", "pull_request", load_example("pull_request.opened"))
        [first] = wait_for(lambda: read_records(records, phase="start"))
        os.kill(first["pid"], signal.SIGKILL)
        job = Job.fetch(job_id_for("crash-1"), connection=queue.connection)
        wait_for(lambda: job.get_status() in (JobStatus.FAILED, JobStatus.FINISHED), timeout=60)
        status, alive = job.get_status(), worker.poll() is None
        lines = read_records(records, phase=None)
    finally:
        worker.terminate()
        worker.wait(20)
        queue.stop()
    assert (status, alive) == (JobStatus.FINISHED, True)
    assert [(r["phase"], r["pid"] == first["pid"]) for r in lines] == [("start", True), ("start", False),
                                                                         ("finish", False)]
    assert {r["ppid"] for r in lines} == {worker.pid}
    assert "the evaluation process died (signal 9) during the evaluation" in (tmp_path / "worker.log").read_text()


def test_a_job_stopped_by_rq_completes_its_check_run_once_saying_so(worker_env: dict[str, str], tmp_path: Path) -> None:
    """`rq`'s stop-job command kills the evaluation process; only the stopped callback ends the run."""
    records = tmp_path / "ending.jsonl"
    env = {**worker_env, "GITOPS_BOT_SERVICE_FACTORY": "tests.support.ending_service:make",
           "GITOPS_TEST_RECORD_FILE": str(records)}
    queue = RedisQueue(AppSettings.from_env(env), retry=Retry(max=2, interval=0))
    worker = _rq_worker(env, tmp_path / "worker.log")
    try:
        assert queue.enqueue("slow-stop", "pull_request", load_example("pull_request.opened"))
        [start] = wait_for(lambda: read_lines(records))
        send_stop_job_command(queue.connection, job_id_for("slow-stop"))
        job = Job.fetch(job_id_for("slow-stop"), connection=queue.connection)
        wait_for(lambda: job.get_status() == JobStatus.STOPPED, timeout=60)
        lines = wait_for(lambda: len(read_lines(records)) >= 2 and read_lines(records))
        alive = worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(20)
        queue.stop()
    assert alive and start["phase"] == "start"
    assert [(r["phase"], r["reason"]) for r in lines] == [("start", ""),
                                                          ("abandon", "the job was stopped by an operator")]
