"""The per-pull-request head record on both backends (a SQLite file, a real redis-server): who may publish."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from bot.app.head_registry import (
    HeadClaim,
    HeadRegistry,
    PublishedCheck,
    RedisHeadRegistry,
    Refusal,
    SqliteHeadRegistry,
    Ticket,
)
from bot.app.supersede import note_delivery, stamp_of
from tests.support.redis_server import running_redis

from .conftest import load_example

PR = "acme/shop#7"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> HeadRegistry:
    if request.param == "sqlite":
        return SqliteHeadRegistry(tmp_path / "heads.sqlite3")
    connection = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    connection.flushdb()
    return RedisHeadRegistry(connection)


def ticket(got: Ticket | Refusal) -> Ticket:
    assert isinstance(got, Ticket), got
    return got


def test_a_push_on_top_supersedes_the_running_evaluation_of_its_parent(registry: HeadRegistry) -> None:
    a = ticket(registry.begin(HeadClaim(PR, "a" * 40, stamp=100.0)))
    assert registry.superseded_by(a) is None
    b = ticket(registry.begin(HeadClaim(PR, "b" * 40, stamp=100.0, before="a" * 40)))  # same second: the chain says
    assert registry.superseded_by(a) == "b" * 40
    assert registry.superseded_by(b) is None
    # The late delivery of the older push is refused, surely (the chain), without asking GitHub.
    assert registry.begin(HeadClaim(PR, "a" * 40, stamp=100.0)) == Refusal("b" * 40, unsure=False)


def test_timestamps_order_unrelated_heads_and_ties_are_left_to_github(registry: HeadRegistry) -> None:
    ticket(registry.begin(HeadClaim(PR, "b" * 40, stamp=200.0)))
    assert registry.begin(HeadClaim(PR, "a" * 40, stamp=150.0)) == Refusal("b" * 40, unsure=False)
    assert registry.begin(HeadClaim(PR, "c" * 40, stamp=200.0)) == Refusal("b" * 40, unsure=True)
    assert registry.begin(HeadClaim(PR, "c" * 40)) == Refusal("b" * 40, unsure=True)  # no timestamp: ask GitHub
    forced = ticket(registry.begin(HeadClaim(PR, "c" * 40), force=True))  # GitHub said c is the head
    assert registry.superseded_by(forced) is None
    ticket(registry.begin(HeadClaim(PR, "d" * 40, stamp=250.0)))  # a force-push later on: newer
    assert registry.superseded_by(forced) == "d" * 40


def test_a_newer_evaluation_of_the_same_head_takes_over_but_the_web_front_note_does_not(
    registry: HeadRegistry,
) -> None:
    first = ticket(registry.begin(HeadClaim(PR, "a" * 40, stamp=100.0)))
    registry.note(HeadClaim(PR, "a" * 40, stamp=100.0))  # the web front sees another delivery of the same head
    assert registry.superseded_by(first) is None
    second = ticket(registry.begin(HeadClaim(PR, "a" * 40)))
    assert registry.superseded_by(first) == "a" * 40
    assert registry.superseded_by(second) is None
    registry.note(HeadClaim(PR, "b" * 40, stamp=101.0))  # a push: running work for "a" stops at once
    assert registry.superseded_by(second) == "b" * 40
    assert ticket(registry.begin(HeadClaim(PR, "b" * 40, stamp=101.0))).sha == "b" * 40


def test_concurrent_claims_leave_exactly_one_current_ticket_the_newest(registry: HeadRegistry) -> None:
    claims = [HeadClaim(PR, f"{n:040x}", stamp=float(n)) for n in range(1, 41)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(registry.begin, claims))
    tickets = [r for r in results if isinstance(r, Ticket)]
    current = [t for t in tickets if registry.superseded_by(t) is None]
    assert [t.sha for t in current] == [f"{40:040x}"]
    assert len({t.generation for t in tickets}) == len(tickets)  # every accepted claim got its own generation


def test_the_publish_lock_lets_one_publisher_at_a_time_check_and_write(registry: HeadRegistry) -> None:
    mine = ticket(registry.begin(HeadClaim(PR, "a" * 40, stamp=1.0)))
    inside, overlaps = [0], []
    lock = threading.Lock()

    def publish() -> None:
        with registry.publishing(mine) as newer:
            assert newer is None
            with lock:
                inside[0] += 1
                overlaps.append(inside[0])
            threading.Event().wait(0.02)
            with lock:
                inside[0] -= 1

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: publish(), range(8)))
    assert overlaps == [1] * 8
    with registry.publishing(mine):
        pass
    registry.note(HeadClaim(PR, "b" * 40, stamp=2.0))
    with registry.publishing(mine) as newer:
        assert newer == "b" * 40


def test_a_delivery_remembers_its_published_check_run(registry: HeadRegistry) -> None:
    assert registry.published("d-1", "a" * 40) is None
    registry.record_published("d-1", "a" * 40, PublishedCheck(5, "failure", "2 blocking findings"))
    assert registry.published("d-1", "a" * 40) == PublishedCheck(5, "failure", "2 blocking findings")
    assert registry.published("d-1", "b" * 40) is None
    assert registry.published("d-2", "a" * 40) is None


def test_the_web_front_notes_pull_request_heads_only(registry: HeadRegistry) -> None:
    payload = load_example("pull_request.synchronize")
    note_delivery(registry, "pull_request", payload)
    head = payload["pull_request"]["head"]["sha"]
    key = f"{payload['repository']['full_name']}#{payload['number']}"
    current = ticket(registry.begin(HeadClaim(key, head, stamp_of(payload["pull_request"]["updated_at"]))))
    assert current.generation == 2  # the note made generation 1
    note_delivery(registry, "check_suite", load_example("check_suite.requested"))
    bad = load_example("pull_request.opened")
    bad["number"] = "7"  # not an int: nothing noted, nothing raised
    note_delivery(registry, "pull_request", bad)
    assert registry.superseded_by(current) is None


@pytest.mark.parametrize(("text", "seconds"), [("2019-05-15T15:20:33Z", 1557933633.0), ("", None), ("soon", None),
                                                (17, None)])
def test_updated_at_stamps(text: object, seconds: float | None) -> None:
    assert stamp_of(text) == seconds
