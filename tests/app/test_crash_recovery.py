"""A delivery accepted before a crash is processed after the restart: exactly once more."""

from __future__ import annotations

from pathlib import Path

from bot.app.queue.sqlite_queue import SqliteQueue
from tests.support.gunicorn import GunicornServer, post_webhook, wait_for
from tests.support.recording_service import read_records

from .conftest import SECRET, base_env, load_example


def test_job_running_when_gunicorn_is_killed_runs_once_more_after_restart(
    private_key_pem: str, tmp_path: Path
) -> None:
    records = tmp_path / "requests.jsonl"
    # One worker thread, a job that sleeps far longer than the test, and a short lease.
    env = base_env(
        private_key_pem, tmp_path, GITOPS_BOT_WORKER_THREADS="1", GITOPS_BOT_JOB_LEASE_SECONDS="2",
        GITOPS_TEST_SERVICE_SLEEP="300",
    )  # fmt: skip
    first = GunicornServer(env, workers=1)
    try:
        first.wait_healthy()
        response = post_webhook(
            first.url, "pull_request", load_example("pull_request.opened"), SECRET, "crash-1"
        )
        assert response.status_code == 202
        wait_for(lambda: read_records(records, phase="start"))  # the job is running ...
        first.kill()  # ... when master and workers die (SIGKILL: no cleanup)
    finally:
        first.stop()
    assert [r["phase"] for r in read_records(records, phase=None)] == ["start"]
    queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)
    assert queue.status("crash-1")["status"] == "running"

    second = GunicornServer({**env, "GITOPS_TEST_SERVICE_SLEEP": "0"}, workers=2)
    try:
        second.wait_healthy()
        wait_for(lambda: queue.status("crash-1")["status"] == "done", timeout=30)
        again = post_webhook(
            second.url, "pull_request", load_example("pull_request.opened"), SECRET, "crash-1"
        )
        assert again.json() == {"status": "duplicate"}
    finally:
        second.stop()
    phases = [(r["phase"], r["delivery_id"], r["head_sha"]) for r in read_records(records, phase=None)]
    head = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert phases == [("start", "crash-1", head), ("start", "crash-1", head), ("finish", "crash-1", head)]
    assert queue.status("crash-1")["attempts"] == 2


def test_graceful_restart_hands_a_running_job_back_at_once(private_key_pem: str, tmp_path: Path) -> None:
    records = tmp_path / "requests.jsonl"
    # A lease far longer than the test: only the hand-back on shutdown can make the job run again.
    env = base_env(
        private_key_pem, tmp_path, GITOPS_BOT_WORKER_THREADS="1", GITOPS_BOT_JOB_LEASE_SECONDS="3600",
        GITOPS_TEST_SERVICE_SLEEP="300",
    )  # fmt: skip
    first = GunicornServer(env, workers=1)
    try:
        first.wait_healthy()
        assert (
            post_webhook(
                first.url, "merge_group", load_example("merge_group.checks_requested"), SECRET, "g-1"
            ).status_code
            == 202
        )
        wait_for(lambda: read_records(records, phase="start"))
    finally:
        first.stop()  # SIGTERM: gunicorn's graceful shutdown
    queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)
    assert queue.status("g-1")["status"] == "queued"
    second = GunicornServer({**env, "GITOPS_TEST_SERVICE_SLEEP": "0"}, workers=1)
    try:
        second.wait_healthy()
        wait_for(lambda: queue.status("g-1")["status"] == "done", timeout=30)
    finally:
        second.stop()
    assert [(r["phase"], r["delivery_id"]) for r in read_records(records, phase=None)] == [
        ("start", "g-1"),
        ("start", "g-1"),
        ("finish", "g-1"),
    ]
