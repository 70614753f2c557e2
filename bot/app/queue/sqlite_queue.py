"""Embedded durable queue: one SQLite file (WAL) shared by every process, worker threads in each.

A delivery is written before GitHub gets its 202, so a crash or restart never
loses it. A worker claims a job with a lease, renewed while the job runs; if
the worker dies, the lease expires and any worker (in any process) claims the
job again. A job that can never succeed (the handler says so) is not retried;
a job given up for good is handed to the handler's ``abandon`` once, so its
check run is completed instead of staying in progress.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.app.queue.processes import JobError
from bot.app.queue.protocol import DeliveryHandler
from bot.app.sqlite_files import create_schema, open_wal

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id  TEXT PRIMARY KEY,          -- X-GitHub-Delivery: the dedupe key
    event        TEXT NOT NULL,
    payload      TEXT NOT NULL,             -- the JSON body as received
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,             -- retry backoff: not claimable before this
    lease_until  REAL,                      -- running jobs past this are re-queued
    claim_token  TEXT,                      -- who holds the lease; guards late completions
    last_error   TEXT,
    received_at  REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_by_status ON deliveries (status, received_at);
-- Every column the claim tests, in the index: the row (whose 25 kB payload comes first, in
-- overflow pages SQLite must walk to reach later columns) is read only for the job taken.
CREATE INDEX IF NOT EXISTS deliveries_claimable ON deliveries (status, received_at, available_at, lease_until);
"""

# The oldest claimable job: the first queued one whose backoff is over, or a running one whose lease
# lapsed. Two ordered index walks that stop at their first match; an OR of both would collect and
# sort every queued row on each claim (36 ms of CPU per claim with 800 waiting).
NEXT_CLAIMABLE = """
SELECT delivery_id, received_at FROM (
    SELECT delivery_id, received_at FROM deliveries INDEXED BY deliveries_claimable
     WHERE status = 'queued' AND available_at <= :now ORDER BY received_at LIMIT 1)
UNION ALL
SELECT delivery_id, received_at FROM (
    SELECT delivery_id, received_at FROM deliveries INDEXED BY deliveries_claimable
     WHERE status = 'running' AND lease_until < :now ORDER BY received_at LIMIT 1)
"""

CLAIMABLE = f"SELECT 1 FROM ({NEXT_CLAIMABLE}) LIMIT 1"

CLAIM = f"""
UPDATE deliveries
   SET status = 'running', attempts = attempts + 1, lease_until = :now + :lease,
       claim_token = :token, updated_at = :now
 WHERE delivery_id = (SELECT delivery_id FROM ({NEXT_CLAIMABLE}) ORDER BY received_at LIMIT 1)
RETURNING delivery_id, event, payload, attempts
"""

# Jobs whose workers died this many times are poison: keep them, stop claiming them.
# They are marked for abandonment: one worker then completes their check runs (`take_abandoned`).
ABANDON_PENDING = "abandon-pending"
GIVE_UP_ON_EXPIRED = f"""
UPDATE deliveries SET status = 'failed', updated_at = :now, claim_token = '{ABANDON_PENDING}',
       last_error = 'lease expired on the last attempt (worker died or job too slow)'
 WHERE status = 'running' AND lease_until < :now AND attempts >= :max_attempts
"""

TAKE_ABANDONED = f"""
UPDATE deliveries SET claim_token = NULL, updated_at = :now
 WHERE delivery_id = (SELECT delivery_id FROM deliveries
                       WHERE status = 'failed' AND claim_token = '{ABANDON_PENDING}' LIMIT 1)
RETURNING delivery_id, event, payload, last_error
"""

KEEP_DONE_SECONDS = 14 * 24 * 3600  # GitHub lets users redeliver recent deliveries; keep ids to dedupe them


class SqliteQueue:
    """A `JobQueue` over a SQLite file; safe to share between processes and threads."""

    backend = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        lease_seconds: int = 600,
        worker_threads: int = 2,
        max_attempts: int = 3,
        backoff_seconds: float = 5.0,
        poll_seconds: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self.worker_threads = worker_threads
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.poll_seconds = poll_seconds
        self._clock = clock
        self._local = threading.local()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._handler: DeliveryHandler | None = None
        self._started_pid: int | None = None
        self._active: set[str] = set()  # claim tokens of jobs running in this process (their leases are renewed)
        self._start_lock = threading.Lock()
        create_schema(self.path, SCHEMA)

    # -- connections -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        return open_wal(self.path, synchronous_normal=True)

    def _db(self) -> sqlite3.Connection:
        """One connection per thread and process (a connection must not cross a fork)."""
        key = (os.getpid(), threading.get_ident())
        if getattr(self._local, "key", None) != key:
            self._local.db = self._connect()
            self._local.key = key
        db: sqlite3.Connection = self._local.db
        return db

    def _request_db(self) -> sqlite3.Connection:
        """The connection of a thread that answers webhooks: it never runs a WAL checkpoint.

        A checkpoint copies the WAL into the database and fsyncs it (tens of milliseconds on a
        busy disk); left to the committing connection, it lands on whichever acknowledgement
        crosses the threshold. Worker threads' connections keep SQLite's automatic checkpoints,
        so the WAL is still folded back as jobs complete.
        """
        db = self._db()
        if getattr(self._local, "request_key", None) != self._local.key:
            db.execute("PRAGMA wal_autocheckpoint=0")
            self._local.request_key = self._local.key
        return db

    # -- JobQueue ----------------------------------------------------------------------------------

    def enqueue(self, delivery_id: str, event: str, payload: dict[str, Any], *, body: bytes | None = None) -> bool:
        now = self._clock()
        try:
            text = body.decode("utf-8") if body is not None else None  # json.loads took UTF-16/32 too
        except UnicodeDecodeError:
            text = None
        cursor = self._request_db().execute(
            "INSERT OR IGNORE INTO deliveries (delivery_id, event, payload, status, available_at,"
            " received_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            (delivery_id, event, text or json.dumps(payload, separators=(",", ":")), now, now, now),
        )
        if cursor.rowcount == 1:
            self._wake.set()
            return True
        return False

    def received(self, delivery_id: str) -> bool:
        row = self._db().execute("SELECT 1 FROM deliveries WHERE delivery_id = ?", (delivery_id,)).fetchone()
        return row is not None

    def ping(self) -> bool:
        try:
            self._db().execute("SELECT 1 FROM deliveries LIMIT 1").fetchall()
            return True
        except sqlite3.Error as e:
            log.warning("queue %s unreachable: %s", self.path, e)
            return False

    def depth(self) -> int:
        count: int = self._db().execute("SELECT COUNT(*) FROM deliveries WHERE status = 'queued'").fetchone()[0]
        return count

    def oldest_age(self) -> float:
        oldest = self._db().execute("SELECT MIN(received_at) FROM deliveries WHERE status = 'queued'").fetchone()[0]
        return max(self._clock() - oldest, 0.0) if oldest is not None else 0.0

    def status(self, delivery_id: str) -> dict[str, Any] | None:
        """The stored row of one delivery (for operators and tests)."""
        cursor = self._db().execute(
            "SELECT delivery_id, event, status, attempts, last_error FROM deliveries WHERE delivery_id = ?",
            (delivery_id,),
        )
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def start_workers(self, handler: DeliveryHandler) -> None:
        with self._start_lock:
            if self._started_pid == os.getpid() or self.worker_threads <= 0:
                return
            # After a fork the parent's threads do not exist here: start our own.
            self._started_pid = os.getpid()
            self._handler = handler
            self._stop.clear()
            self._threads = []
            self.recover()
            for n in range(self.worker_threads):
                thread = threading.Thread(
                    target=self._work, args=(handler,), name=f"gitops-bot-queue-{n}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
            keeper = threading.Thread(target=self._keep_leases, name="gitops-bot-queue-leases", daemon=True)
            keeper.start()
            self._threads.append(keeper)
            log.info(
                "queue %s: %d worker threads started in pid %d", self.path, self.worker_threads, os.getpid()
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers; jobs still running after ``timeout`` go back to the queue at once.

        On a graceful restart this saves waiting for their leases to expire; if such a job still
        finishes here, its completion no longer matches the claim and it simply runs again.
        """
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        self._threads = []
        self._started_pid = None
        self.release(list(self._active))
        close = getattr(self._handler, "close", None)  # evaluation processes: their jobs are back in the queue
        if close is not None:
            close()

    def release(self, tokens: list[str]) -> int:
        if not tokens:
            return 0
        now = self._clock()
        marks = ",".join("?" * len(tokens))
        released = (
            self._db()
            .execute(
                "UPDATE deliveries SET status = 'queued', available_at = ?, lease_until = NULL, claim_token = NULL,"
                f" updated_at = ? WHERE status = 'running' AND claim_token IN ({marks})",
                (now, now, *tokens),
            )
            .rowcount
        )
        if released:
            log.warning(
                "queue %s: %d unfinished deliveries handed back for another worker", self.path, released
            )
        return released

    # -- work --------------------------------------------------------------------------------------

    def renew_leases(self) -> int:
        """Extend the leases of the jobs running in this process: a lease now means "its worker is alive"."""
        tokens = list(self._active)
        if not tokens:
            return 0
        now = self._clock()
        marks = ",".join("?" * len(tokens))
        return self._db().execute(
            f"UPDATE deliveries SET lease_until = ? WHERE status = 'running' AND claim_token IN ({marks})",
            (now + self.lease_seconds, *tokens),
        ).rowcount

    def _keep_leases(self) -> None:
        interval = max(self.lease_seconds / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                self.renew_leases()
            except sqlite3.Error:
                log.exception("queue %s: lease renewal failed", self.path)

    def recover(self) -> int:
        """Re-queue jobs whose lease expired (their worker died) and forget old finished ids."""
        now = self._clock()
        db = self._db()
        db.execute(GIVE_UP_ON_EXPIRED, {"now": now, "max_attempts": self.max_attempts})
        requeued = db.execute(
            "UPDATE deliveries SET status = 'queued', available_at = ?, updated_at = ?, claim_token = NULL"
            " WHERE status = 'running' AND lease_until < ?",
            (now, now, now),
        ).rowcount
        db.execute(
            "DELETE FROM deliveries WHERE status = 'done' AND updated_at < ?", (now - KEEP_DONE_SECONDS,)
        )
        if requeued:
            log.warning("queue %s: re-queued %d deliveries whose worker died", self.path, requeued)
        return requeued

    def claim(self) -> tuple[str, str, dict[str, Any], str] | None:
        """Atomically take the oldest claimable job: (delivery_id, event, payload, claim token)."""
        now = self._clock()
        db = self._db()
        if db.execute(CLAIMABLE, {"now": now}).fetchone() is None:
            return None  # idle polls stay read-only: no write lock, no contention with enqueue
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        db.execute("BEGIN IMMEDIATE")  # take the write lock before reading, so two claimers never race
        try:
            db.execute(GIVE_UP_ON_EXPIRED, {"now": now, "max_attempts": self.max_attempts})
            row = db.execute(CLAIM, {"now": now, "lease": self.lease_seconds, "token": token}).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if row is None:
            return None
        delivery_id, event, payload, _attempts = row
        return delivery_id, event, json.loads(payload), token

    def complete(self, delivery_id: str, token: str) -> None:
        self._db().execute(
            "UPDATE deliveries SET status = 'done', lease_until = NULL, last_error = NULL, updated_at = ?"
            " WHERE delivery_id = ? AND claim_token = ?",
            (self._clock(), delivery_id, token),
        )

    def fail(self, delivery_id: str, token: str, error: str, *, final: bool = False) -> str:
        """Record a failed attempt: back to the queue with backoff, or 'failed' after the last attempt.

        ``final``: the error can never go away (GitHub said 404/410/422): no more attempts.
        Returns 'released' when the claim is no longer ours (handed back on a stop, or re-claimed).
        """
        now = self._clock()
        db = self._db()
        row = db.execute("SELECT attempts FROM deliveries WHERE delivery_id = ?", (delivery_id,)).fetchone()
        attempts = row[0] if row else self.max_attempts
        status = "failed" if final or attempts >= self.max_attempts else "queued"
        delay = self.backoff_seconds * (2 ** (attempts - 1))
        updated = db.execute(
            "UPDATE deliveries SET status = ?, available_at = ?, lease_until = NULL, last_error = ?,"
            " updated_at = ? WHERE delivery_id = ? AND claim_token = ?",
            (status, now + delay, error[:2000], now, delivery_id, token),
        ).rowcount
        return status if updated else "released"

    def take_abandoned(self) -> tuple[str, str, dict[str, Any], str] | None:
        """One job given up after its worker kept dying, for exactly one caller to abandon."""
        row = self._db().execute(TAKE_ABANDONED, {"now": self._clock()}).fetchone()
        if row is None:
            return None
        delivery_id, event, payload, error = row
        return delivery_id, event, json.loads(payload), error or "gave up"

    def run_once(self, handler: DeliveryHandler) -> bool:
        """Claim and run one job (or abandon one given up); False when there was nothing to do."""
        job = self.claim()
        if job is None:
            return self._abandon_one(handler)
        delivery_id, event, payload, token = job
        self._active.add(token)
        try:
            handler(event, payload, delivery_id)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # also native panics (PyO3 raises them as BaseException): keep the thread alive
            retryable = getattr(e, "retryable", True) is not False
            error = str(e) if isinstance(e, JobError) else f"{type(e).__name__}: {e}"
            status = self.fail(delivery_id, token, error, final=not retryable)
            if not retryable:
                log.error("[%s] %s delivery failed for good, not retried: %s", delivery_id, event, error)
            elif status == "failed":
                log.error("[%s] %s delivery failed on its last attempt, giving up: %s", delivery_id, event, error,
                          exc_info=None if isinstance(e, JobError) else e)  # the child logged its traceback
            else:
                log.warning("[%s] %s delivery failed (%s), will retry: %s", delivery_id, event, status, error,
                            exc_info=None if isinstance(e, JobError) else e)
            if status == "failed" and getattr(e, "leaves_work_open", False):  # a raise had its chance to clean up
                self._abandon(handler, delivery_id, event, payload, error)
        else:
            self.complete(delivery_id, token)
        finally:
            self._active.discard(token)
        return True

    def _abandon_one(self, handler: DeliveryHandler) -> bool:
        if getattr(handler, "abandon", None) is None:
            return False
        taken = self.take_abandoned()
        if taken is None:
            return False
        delivery_id, event, payload, error = taken
        self._abandon(handler, delivery_id, event, payload, error)
        return True

    @staticmethod
    def _abandon(handler: DeliveryHandler, delivery_id: str, event: str, payload: dict[str, Any],
                 error: str) -> None:
        """Best effort: tell the handler the job will not run again, so nothing it started stays open."""
        abandon = getattr(handler, "abandon", None)
        if abandon is None:
            return
        try:
            abandon(event, payload, delivery_id, error)
        except Exception as e:  # noqa: BLE001 - logged; the job is failed either way
            log.error("[%s] could not complete what the abandoned delivery started: %s", delivery_id, e)

    def _work(self, handler: DeliveryHandler) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once(handler)
            except sqlite3.Error:
                log.exception("queue %s: claim failed", self.path)
                worked = False
            if not worked:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
