"""The latest head sha of each pull request, shared by every process (SQLite file or Redis), with compare-and-set.

GitHub delivers at least once and in no particular order, and any number of
workers evaluate in parallel. This record is how they agree on which evaluation
may publish: each one takes a `Ticket` (head sha + generation) when it starts,
and publishes only while its ticket is still the record's, under a short
per-pull-request lock. A newer push (or a newer evaluation of the same commit)
moves the record on, so older work stops before it writes anything.
It is a cache in front of GitHub: when it cannot tell which of two heads is
newer, the caller asks GitHub (`Order.UNKNOWN`).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import redis

from bot.app.sqlite_files import open_wal

if TYPE_CHECKING:
    from bot.app.settings import AppSettings

KEEP_SECONDS = 30 * 24 * 3600  # a pull request silent this long is re-learnt from its next delivery
# A publisher that died holding the lock blocks its pull request this long at most (never longer than the
# job lease: by the time a dead worker's job runs again, its lock has lapsed).
LOCK_LEASE_SECONDS = 30.0
LOCK_POLL_SECONDS = 0.05
REDIS_PREFIX = "gitops-bot:head:"


@dataclass(frozen=True)
class HeadClaim:
    """What one delivery says about its pull request's head."""

    key: str  # "owner/repo#7"; "owner/repo@<sha>" for changes without a pull request
    sha: str
    stamp: float | None = None  # the pull request's updated_at in the payload (None: not known)
    before: str = ""  # synchronize: the head this push replaced


@dataclass(frozen=True)
class HeadRecord:
    sha: str
    stamp: float | None
    before: str
    generation: int


@dataclass(frozen=True)
class Ticket:
    """The right to publish for ``sha``, valid while the record still holds this generation."""

    key: str
    sha: str
    generation: int


@dataclass(frozen=True)
class Refusal:
    """A claim that lost: ``latest`` is the head on record; ``unsure`` when only GitHub can say which is newer."""

    latest: str
    unsure: bool


@dataclass(frozen=True)
class PublishedCheck:
    """A delivery's check run already completed with this verdict (a re-processed delivery does not repeat it)."""

    check_run_id: int
    conclusion: str
    title: str


class Order(Enum):
    NEWER = "newer"
    SAME = "same"
    OLDER = "older"
    UNKNOWN = "unknown"


def order(record: HeadRecord | None, claim: HeadClaim) -> Order:
    """Where ``claim`` stands against the record: a push's ``before`` chain first, then the payload's timestamps."""
    if record is None:
        return Order.NEWER
    if claim.sha == record.sha:
        return Order.SAME
    if claim.before and claim.before == record.sha:
        return Order.NEWER
    if record.before and record.before == claim.sha:
        return Order.OLDER
    if claim.stamp is not None and record.stamp is not None and claim.stamp != record.stamp:
        return Order.NEWER if claim.stamp > record.stamp else Order.OLDER
    return Order.UNKNOWN


def _advanced(record: HeadRecord | None, claim: HeadClaim, *, bump: bool, force: bool) -> HeadRecord | None:
    """The record after ``claim`` (None: unchanged). A new sha always starts a new generation."""
    seen = order(record, claim)
    generation = record.generation if record else 0
    if seen is Order.NEWER or (force and seen is not Order.SAME):
        # Without a timestamp of its own, the newer head is at least as recent as the one it replaces.
        stamp = claim.stamp if claim.stamp is not None else (record.stamp if record else None)
        return HeadRecord(claim.sha, stamp, claim.before, generation + 1)
    if seen is Order.SAME and record is not None:
        stamps = [s for s in (record.stamp, claim.stamp) if s is not None]
        return HeadRecord(record.sha, max(stamps) if stamps else None, record.before or claim.before,
                          generation + 1 if bump else generation)
    return None


class HeadRegistry(Protocol):
    def note(self, claim: HeadClaim) -> None:
        """The web front saw a delivery: a newer head supersedes older work at once (no new generation otherwise)."""

    def begin(self, claim: HeadClaim, *, force: bool = False) -> Ticket | Refusal:
        """An evaluation starts: a ticket, or a refusal naming the newer head. ``force``: GitHub says it is the head."""

    def superseded_by(self, ticket: Ticket) -> str | None:
        """None while ``ticket`` is current, else the head on record (its own sha: a newer evaluation of it)."""

    def publishing(self, ticket: Ticket) -> AbstractContextManager[str | None]:
        """Context manager: hold the pull request's publish lock; yields `superseded_by` as checked under it."""

    def published(self, delivery_id: str, sha: str) -> PublishedCheck | None:
        """The completed check run of an earlier attempt of this delivery, if any."""

    def record_published(self, delivery_id: str, sha: str, check: PublishedCheck) -> None: ...


class _Registry:
    """The shared logic; backends supply a transaction on one record, a lock and a small key-value store."""

    def _update(self, key: str, change: Callable[[HeadRecord | None], HeadRecord | None]) -> HeadRecord | None:
        """Apply ``change`` atomically; returns the record as it was before."""
        raise NotImplementedError

    def _record(self, key: str) -> HeadRecord | None:
        raise NotImplementedError

    def _lock(self, key: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    def note(self, claim: HeadClaim) -> None:
        self._update(claim.key, lambda record: _advanced(record, claim, bump=False, force=False))

    def begin(self, claim: HeadClaim, *, force: bool = False) -> Ticket | Refusal:
        written: list[HeadRecord] = []

        def change(record: HeadRecord | None) -> HeadRecord | None:
            new = _advanced(record, claim, bump=True, force=force)
            written[:] = [new] if new else []  # Redis may call this again after a lost race
            return new

        before = self._update(claim.key, change)
        if written:
            return Ticket(claim.key, claim.sha, written[0].generation)
        assert before is not None  # only a record on file refuses a claim
        return Refusal(before.sha, unsure=order(before, claim) is Order.UNKNOWN)

    def superseded_by(self, ticket: Ticket) -> str | None:
        record = self._record(ticket.key)
        if record is not None and (record.sha, record.generation) == (ticket.sha, ticket.generation):
            return None
        return record.sha if record is not None else ticket.sha

    @contextmanager
    def publishing(self, ticket: Ticket) -> Iterator[str | None]:
        with self._lock(ticket.key):
            yield self.superseded_by(ticket)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS heads (
    key TEXT PRIMARY KEY, sha TEXT NOT NULL, stamp REAL, before TEXT NOT NULL,
    generation INTEGER NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS publish_locks (key TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS published_checks (
    delivery_id TEXT NOT NULL, sha TEXT NOT NULL, check_json TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (delivery_id, sha));
"""


class SqliteHeadRegistry(_Registry):
    """The record in its own SQLite file beside the queue's (its locks never delay the queue's writers)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time,
                 lock_lease_seconds: float = LOCK_LEASE_SECONDS) -> None:
        self.path = Path(path)
        self.lock_lease_seconds = lock_lease_seconds
        self._clock = clock
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db().executescript(SQLITE_SCHEMA)
        self._db().execute("DELETE FROM heads WHERE updated_at < ?", (clock() - KEEP_SECONDS,))
        self._db().execute("DELETE FROM published_checks WHERE at < ?", (clock() - KEEP_SECONDS,))

    def _db(self) -> sqlite3.Connection:
        """One connection per thread and process (a connection must not cross a fork)."""
        key = (os.getpid(), threading.get_ident())
        if getattr(self._local, "key", None) != key:
            self._local.db, self._local.key = open_wal(self.path), key
        db: sqlite3.Connection = self._local.db
        return db

    def _record(self, key: str) -> HeadRecord | None:
        row = self._db().execute("SELECT sha, stamp, before, generation FROM heads WHERE key = ?", (key,)).fetchone()
        return HeadRecord(*row) if row else None

    def _update(self, key: str, change: Callable[[HeadRecord | None], HeadRecord | None]) -> HeadRecord | None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # the write lock before reading: the compare and the set are one step
        try:
            before = self._record(key)
            new = change(before)
            if new is not None:
                db.execute("INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?, ?, ?)",
                           (key, new.sha, new.stamp, new.before, new.generation, self._clock()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return before

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        holder, db = _holder(), self._db()
        deadline = time.monotonic() + self.lock_lease_seconds + 5
        while True:
            now = self._clock()
            taken = db.execute(
                "INSERT INTO publish_locks VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
                " SET holder = excluded.holder, until = excluded.until WHERE publish_locks.until < ?",
                (key, holder, now + self.lock_lease_seconds, now)).rowcount
            if taken or time.monotonic() > deadline:  # past the deadline the holder's lease has lapsed anyway
                break
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            db.execute("DELETE FROM publish_locks WHERE key = ? AND holder = ?", (key, holder))

    def published(self, delivery_id: str, sha: str) -> PublishedCheck | None:
        row = self._db().execute("SELECT check_json FROM published_checks WHERE delivery_id = ? AND sha = ?",
                                 (delivery_id, sha)).fetchone()
        return PublishedCheck(**json.loads(row[0])) if row else None

    def record_published(self, delivery_id: str, sha: str, check: PublishedCheck) -> None:
        self._db().execute("INSERT OR REPLACE INTO published_checks VALUES (?, ?, ?, ?)",
                           (delivery_id, sha, json.dumps(check.__dict__), self._clock()))


class RedisHeadRegistry(_Registry):
    """The record in Redis, shared by workers on every host; WATCH/MULTI makes the compare-and-set atomic."""

    def __init__(self, connection: redis.Redis, lock_lease_seconds: float = LOCK_LEASE_SECONDS) -> None:
        self.connection = connection
        self.lock_lease_seconds = lock_lease_seconds

    def _record(self, key: str, client: redis.Redis | None = None) -> HeadRecord | None:
        raw = (client or self.connection).hgetall(REDIS_PREFIX + key)
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        stamp = float(fields["stamp"]) if fields.get("stamp") else None
        return HeadRecord(fields["sha"], stamp, fields.get("before", ""), int(fields["generation"]))

    def _update(self, key: str, change: Callable[[HeadRecord | None], HeadRecord | None]) -> HeadRecord | None:
        name = REDIS_PREFIX + key
        with self.connection.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)  # type: ignore[no-untyped-call]  # redis-py leaves watch() unannotated
                    before = self._record(key, pipe)
                    new = change(before)
                    pipe.multi()
                    if new is not None:
                        pipe.hset(name, mapping={"sha": new.sha, "stamp": "" if new.stamp is None else repr(new.stamp),
                                                 "before": new.before, "generation": new.generation})
                        pipe.expire(name, KEEP_SECONDS)
                    pipe.execute()
                    return before
                except redis.WatchError:  # another process changed it between our read and write: decide again
                    continue

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        holder, name = _holder(), f"{REDIS_PREFIX}lock:{key}"
        deadline = time.monotonic() + self.lock_lease_seconds + 5
        while not self.connection.set(name, holder, nx=True, px=int(self.lock_lease_seconds * 1000)):
            if time.monotonic() > deadline:
                break
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            with self.connection.pipeline() as pipe:  # delete only our own lock (it may have lapsed and moved on)
                try:
                    pipe.watch(name)  # type: ignore[no-untyped-call]  # redis-py leaves watch() unannotated
                    if pipe.get(name) == holder.encode():
                        pipe.multi()
                        pipe.delete(name)
                        pipe.execute()
                except redis.WatchError:
                    pass

    def published(self, delivery_id: str, sha: str) -> PublishedCheck | None:
        raw = self.connection.get(f"{REDIS_PREFIX}published:{delivery_id}:{sha}")
        return PublishedCheck(**json.loads(raw)) if raw else None

    def record_published(self, delivery_id: str, sha: str, check: PublishedCheck) -> None:
        self.connection.set(f"{REDIS_PREFIX}published:{delivery_id}:{sha}", json.dumps(check.__dict__),
                            ex=KEEP_SECONDS)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def head_registry_for(settings: AppSettings) -> HeadRegistry:
    """Beside the queue: in Redis when the queue is there, else a SQLite file in the data directory."""
    lease = min(LOCK_LEASE_SECONDS, settings.job_lease_seconds)
    if settings.queue_backend == "redis":
        # Short timeouts, as the queue's: a webhook must be answered even when Redis is gone.
        return RedisHeadRegistry(redis.Redis.from_url(settings.redis_url or "", socket_connect_timeout=2,
                                                      socket_timeout=5), lock_lease_seconds=lease)
    return SqliteHeadRegistry(settings.data_dir / "heads.sqlite3", lock_lease_seconds=lease)
