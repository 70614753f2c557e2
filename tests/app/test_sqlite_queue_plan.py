"""The embedded queue's claim stays cheap however many deliveries wait: SQLite's own query plan says so."""

from __future__ import annotations

import sqlite3

from bot.app.queue.sqlite_queue import CLAIM, CLAIMABLE, SCHEMA


def plan(query: str) -> list[str]:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, {"now": 0.0, "lease": 1, "token": "t"})]


def test_claims_read_only_the_covering_index_until_they_have_their_job() -> None:
    for query in (CLAIMABLE, CLAIM):
        steps = plan(query)
        searches = [s for s in steps if s.startswith(("SEARCH deliveries", "SCAN deliveries"))]
        # Each walk of the deliveries goes through the covering index in received_at order: no OR
        # collecting every queued row, no sort of them (the only sort left is of the two candidates).
        assert searches and all("USING INDEX deliveries_claimable" in s for s in searches if "delivery_id=?" not in s)
        assert not any("MULTI-INDEX OR" in s for s in steps), steps
        assert sum("TEMP B-TREE" in s for s in steps) <= (1 if query == CLAIM else 0), steps
