"""The embedded SQLite queue: dedupe, atomic claims across processes, retries, lease recovery."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

from bot.app.queue.sqlite_queue import SqliteQueue
from tests.support.gunicorn import wait_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path, clock: FakeClock, **kwargs: Any) -> SqliteQueue:
    return SqliteQueue(tmp_path / "queue.sqlite3", clock=clock, **{"lease_seconds": 60, **kwargs})


def test_enqueue_dedupes_by_delivery_id(tmp_path: Path) -> None:
    queue = make(tmp_path, FakeClock())
    assert queue.enqueue("d-1", "pull_request", {"action": "opened"}) is True
    assert queue.enqueue("d-1", "pull_request", {"action": "opened"}) is False
    assert queue.enqueue("d-2", "merge_group", {}) is True
    assert queue.depth() == 2
    assert queue.ping() is True


def test_jobs_run_oldest_first_and_finish_done(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = make(tmp_path, clock)
    for n in range(3):
        queue.enqueue(f"d-{n}", "pull_request", {"n": n})
        clock.now += 1
    seen: list[tuple[str, dict[str, Any], str]] = []
    while queue.run_once(lambda event, payload, delivery_id: seen.append((event, payload, delivery_id))):
        pass
    assert seen == [
        ("pull_request", {"n": 0}, "d-0"),
        ("pull_request", {"n": 1}, "d-1"),
        ("pull_request", {"n": 2}, "d-2"),
    ]
    assert [queue.status(f"d-{n}")["status"] for n in range(3)] == ["done", "done", "done"]
    assert queue.depth() == 0
    assert queue.enqueue("d-0", "pull_request", {}) is False  # finished ids still dedupe redeliveries


def test_failures_retry_with_backoff_then_stay_failed(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = make(tmp_path, clock, max_attempts=3, backoff_seconds=10)
    queue.enqueue("d-1", "pull_request", {})

    def explode(event: str, payload: dict[str, Any], delivery_id: str) -> None:
        raise RuntimeError("GitHub said 502")

    assert queue.run_once(explode) is True
    assert queue.status("d-1") == {
        "delivery_id": "d-1",
        "event": "pull_request",
        "status": "queued",
        "attempts": 1,
        "last_error": "RuntimeError: GitHub said 502",
    }
    assert queue.run_once(explode) is False  # backing off: 10 s
    clock.now += 10
    assert queue.run_once(explode) is True
    clock.now += 19
    assert queue.run_once(explode) is False  # second backoff is 20 s
    clock.now += 1
    assert queue.run_once(explode) is True
    assert queue.status("d-1")["status"] == "failed"
    assert queue.status("d-1")["attempts"] == 3
    clock.now += 10_000
    assert queue.run_once(explode) is False  # failed jobs are kept, never claimed again


def test_expired_lease_requeues_a_job_whose_worker_died(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = make(tmp_path, clock, lease_seconds=60)
    queue.enqueue("d-1", "pull_request", {})
    claimed = queue.claim()  # a worker takes it ... and dies
    assert claimed is not None and claimed[0] == "d-1"
    assert queue.claim() is None  # leased: nobody else may take it
    clock.now += 61
    restarted = make(tmp_path, clock, lease_seconds=60)  # a new process on the same file
    assert restarted.recover() == 1
    ran: list[str] = []
    assert restarted.run_once(lambda event, payload, delivery_id: ran.append(delivery_id)) is True
    assert ran == ["d-1"]
    assert restarted.status("d-1")["status"] == "done"
    assert restarted.status("d-1")["attempts"] == 2
    queue.complete("d-1", claimed[3])  # the dead worker's late completion must not count: token differs
    assert restarted.status("d-1")["attempts"] == 2


def test_a_job_that_keeps_killing_its_worker_ends_failed(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = make(tmp_path, clock, lease_seconds=5, max_attempts=2)
    queue.enqueue("poison", "pull_request", {})
    assert queue.claim() is not None
    clock.now += 6
    assert queue.claim() is not None  # second attempt, worker dies again
    clock.now += 6
    assert queue.claim() is None
    assert queue.status("poison")["status"] == "failed"
    assert "lease expired" in queue.status("poison")["last_error"]


def _claim_all(path: str, out: Any) -> None:
    queue = SqliteQueue(Path(path), lease_seconds=600)
    claimed = []
    while (job := queue.claim()) is not None:
        claimed.append(job[0])
    out.put(claimed)


def test_processes_sharing_the_file_never_claim_the_same_job(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite3")
    for n in range(200):
        queue.enqueue(f"d-{n}", "pull_request", {"n": n})
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_claim_all, args=(str(tmp_path / "queue.sqlite3"), out)) for _ in range(3)]
    for w in workers:
        w.start()
    results = [out.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(30)
    claimed = [d for r in results for d in r]
    assert len(claimed) == 200
    assert len(set(claimed)) == 200


def test_worker_threads_process_queued_jobs(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=2, poll_seconds=0.05)
    done: list[str] = []
    queue.start_workers(lambda event, payload, delivery_id: done.append(delivery_id))
    queue.start_workers(lambda event, payload, delivery_id: done.append("second start"))  # idempotent
    try:
        for n in range(5):
            queue.enqueue(f"d-{n}", "pull_request", {})
        wait_for(lambda: len(done) == 5)
    finally:
        queue.stop()
    assert sorted(done) == [f"d-{n}" for n in range(5)]


def test_ping_fails_when_the_file_is_unusable(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite3")
    (tmp_path / "queue.sqlite3").unlink()
    (tmp_path / "queue.sqlite3").mkdir()  # a directory where the database should be
    answers: list[bool] = []
    probe = threading.Thread(target=lambda: answers.append(queue.ping()))  # a fresh connection
    probe.start()
    probe.join()
    assert answers == [False]


def test_zero_threads_starts_no_workers(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)
    queue.start_workers(lambda *a: None)
    assert queue._threads == []


def test_stop_hands_unfinished_jobs_back_without_waiting_for_the_lease(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=1, poll_seconds=0.05, lease_seconds=600)
    started, release = threading.Event(), threading.Event()

    def slow(event: str, payload: dict[str, Any], delivery_id: str) -> None:
        started.set()
        release.wait(30)

    queue.enqueue("d-1", "pull_request", {})
    queue.start_workers(slow)
    assert started.wait(10)
    queue.stop(timeout=0.1)  # a graceful restart that cannot wait for the job
    assert queue.status("d-1")["status"] == "queued"
    release.set()  # the old job finishes late: its completion must not mark the re-queued job done
    wait_for(lambda: not queue._active)
    assert queue.status("d-1")["status"] == "queued"
    ran: list[str] = []
    assert queue.run_once(lambda event, payload, delivery_id: ran.append(delivery_id)) is True
    assert (ran, queue.status("d-1")["status"], queue.status("d-1")["attempts"]) == (["d-1"], "done", 2)


class Final(Exception):
    retryable = False


class AbandoningHandler:
    """A handler whose jobs always fail, recording what it is asked to abandon."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.abandoned: list[tuple[str, str]] = []

    def __call__(self, event: str, payload: dict[str, Any], delivery_id: str) -> None:
        raise self.error

    def abandon(self, event: str, payload: dict[str, Any], delivery_id: str, reason: str) -> None:
        self.abandoned.append((delivery_id, reason))


def test_an_error_that_can_never_succeed_is_not_retried(tmp_path: Path) -> None:
    queue = make(tmp_path, FakeClock(), max_attempts=3)
    queue.enqueue("d-1", "pull_request", {})
    handler = AbandoningHandler(Final("GitHub refused: 422 No commit found"))
    assert queue.run_once(handler) is True
    assert (queue.status("d-1")["status"], queue.status("d-1")["attempts"]) == ("failed", 1)
    assert handler.abandoned == []  # it completed its own check run before raising


def test_a_job_given_up_after_its_workers_died_is_abandoned_exactly_once(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = make(tmp_path, clock, lease_seconds=5, max_attempts=1)
    queue.enqueue("poison", "pull_request", {"n": 1})
    assert queue.claim() is not None  # its worker dies
    clock.now += 6
    handler = AbandoningHandler(RuntimeError("unused"))
    other = make(tmp_path, clock, lease_seconds=5, max_attempts=1)
    assert queue.run_once(handler) is True and other.run_once(handler) is False
    assert handler.abandoned == [("poison", "lease expired on the last attempt (worker died or job too slow)")]
    assert queue.status("poison")["status"] == "failed"


def test_a_running_jobs_lease_is_renewed_while_its_worker_lives(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = make(tmp_path, clock, lease_seconds=60)
    queue.enqueue("slow", "pull_request", {})
    seen: list[Any] = []

    def slow(event: str, payload: dict[str, Any], delivery_id: str) -> None:
        clock.now += 50
        assert queue.renew_leases() == 1
        clock.now += 50  # past the first lease, within the renewed one
        seen.append(make(tmp_path, clock).claim())  # another worker must not take it

    assert queue.run_once(slow) is True
    assert seen == [None]
    assert queue.status("slow")["status"] == "done"
