"""Who may run the missed-delivery recovery now, and which deliveries it already asked GitHub to resend.

Shared by every process of one deployment: a SQLite file beside the embedded queue, or Redis in the
distributed mode. The run lease keeps the fleet at one recovery per interval; remembering each
redelivered guid keeps a delivery from being redelivered twice even if two runs overlap.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import redis

from bot.app.sqlite_files import create_schema, open_wal

# GitHub keeps deliveries three days; a guid remembered a day longer can never be listed again.
REMEMBER_SECONDS = 4 * 24 * 3600
LEASE_KEY = "gitops-bot:redelivery:lease"
REDELIVERED_KEY_PREFIX = "gitops-bot:redelivered:"

SCHEMA = """
CREATE TABLE IF NOT EXISTS redelivery_lease (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL          -- nobody else runs the recovery before this
);
CREATE TABLE IF NOT EXISTS redelivered (
    guid TEXT PRIMARY KEY,       -- X-GitHub-Delivery of a delivery GitHub was asked to resend
    at   REAL NOT NULL
);
"""

CLAIM = """
INSERT INTO redelivery_lease (name, owner, until) VALUES ('recovery', :owner, :until)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
 WHERE redelivery_lease.until <= :now
"""


class RedeliveryLedger(Protocol):
    def claim_run(self, owner: str, seconds: float) -> bool:
        """True if ``owner`` may run the recovery now; nobody else may for ``seconds``."""

    def remember(self, guid: str) -> bool:
        """Record that ``guid`` is being redelivered; False if it already was (by anyone)."""

    def forget(self, guid: str) -> None:
        """Undo `remember` after a redelivery request that did not reach GitHub (a later run tries again)."""


class SqliteLedger:
    """The ledger of the embedded mode: one SQLite file shared by the processes of one host."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        create_schema(self.path, SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: the recovery runs once per interval, and connections must not cross a fork.
        return open_wal(self.path)

    def claim_run(self, owner: str, seconds: float) -> bool:
        now = self._clock()
        db = self._connect()
        try:
            claimed = db.execute(CLAIM, {"owner": owner, "until": now + seconds, "now": now}).rowcount == 1
            if claimed:
                db.execute("DELETE FROM redelivered WHERE at < ?", (now - REMEMBER_SECONDS,))
            return claimed
        finally:
            db.close()

    def remember(self, guid: str) -> bool:
        db = self._connect()
        try:
            return db.execute("INSERT OR IGNORE INTO redelivered (guid, at) VALUES (?, ?)",
                              (guid, self._clock())).rowcount == 1
        finally:
            db.close()

    def forget(self, guid: str) -> None:
        db = self._connect()
        try:
            db.execute("DELETE FROM redelivered WHERE guid = ?", (guid,))
        finally:
            db.close()


class RedisLedger:
    """The ledger of the distributed mode: keys in the queue's Redis, shared by every host."""

    def __init__(self, connection: redis.Redis) -> None:
        self._redis = connection

    def claim_run(self, owner: str, seconds: float) -> bool:
        return bool(self._redis.set(LEASE_KEY, owner, nx=True, px=max(int(seconds * 1000), 1)))

    def remember(self, guid: str) -> bool:
        return bool(self._redis.set(REDELIVERED_KEY_PREFIX + guid, "1", nx=True, ex=REMEMBER_SECONDS))

    def forget(self, guid: str) -> None:
        self._redis.delete(REDELIVERED_KEY_PREFIX + guid)
