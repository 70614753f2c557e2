"""The App's SQLite files (queue, head record, redelivery ledger): opened one way, shared by the processes of a host."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_wal(path: Path, *, synchronous_normal: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode (readers never block the writer) that waits for locks instead of failing.

    ``synchronous_normal``: a commit is durable across process crashes, not power loss (the queue's
    documented trade-off: GitHub keeps what a lost host never acknowledged for redelivery).
    """
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    if synchronous_normal:
        db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=30000")
    return db


def create_schema(path: Path, schema: str) -> None:
    """Create the file (and its directory) with ``schema``; idempotent, ``schema`` uses IF NOT EXISTS."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_wal(path)
    try:
        db.executescript(schema)
    finally:
        db.close()
