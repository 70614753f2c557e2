"""Missed-delivery recovery against the GitHub stand-in's delivery log: what is redelivered, once, and what not."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.app.queue.sqlite_queue import SqliteQueue
from bot.app.redelivery import RecoveryLoop, missed_at_github, recover_missed
from bot.app.redelivery_ledger import RedisLedger, SqliteLedger
from bot.app.settings import AppSettings
from bot.errors import ConfigError, GitHubError
from bot.github.deliveries import AppDeliveries, HookDelivery
from tests.support.github_standin import OPENAPI_SUBSET, GitHubStandIn, all_request_problems, app_private_key
from tests.support.gunicorn import REPO_ROOT, free_port, run_gunicorn, subprocess_env, wait_for
from tests.support.hook_deliveries import FAILED_TO_CONNECT
from tests.support.recording_service import read_records
from tests.support.redis_server import running_redis

from .conftest import SECRET, base_env, load_example

APP_ID = 4242
NOW = datetime.now(UTC)
ATTEMPTS = r"/app/hook/deliveries/\d+/attempts"


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    server = GitHubStandIn(app_id=APP_ID)
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


def deliveries(standin: GitHubStandIn) -> AppDeliveries:
    return AppDeliveries(standin.base_url, APP_ID, app_private_key())


def plant_missed(standin: GitHubStandIn, count: int, age: timedelta = timedelta(minutes=5)) -> list[str]:
    payload = load_example("pull_request.opened")
    return [standin.hook.plant("pull_request", payload, status=FAILED_TO_CONNECT, delivered_at=NOW - age)["guid"]
            for _ in range(count)]


def item(id_: int, guid: str, status: str = "OK", code: int = 200) -> HookDelivery:
    return HookDelivery(id=id_, guid=guid, delivered_at=NOW + timedelta(seconds=id_), status=status,
                        status_code=code, event="pull_request", action="opened", installation_id=1,
                        redelivery=False)


def test_a_guid_is_missed_only_while_no_attempt_succeeded() -> None:
    listed = [
        item(1, "a", "failed to connect", 502),
        item(2, "b", "Invalid HTTP Response: 503", 503), item(3, "b", "OK", 202),  # someone redelivered it
        item(4, "c", "timed out", 0), item(5, "c", "Invalid HTTP Response: 500", 500),  # the latest attempt
        item(6, "d", "OK", 200),
        item(7, "e", "OK", 404),  # GitHub's "status" alone is not enough: a 4xx failed too
    ]
    assert [(d.guid, d.id) for d in missed_at_github(listed)] == [("a", 1), ("c", 5), ("e", 7)]


def test_missed_deliveries_are_redelivered_once_and_received_ones_not(standin: GitHubStandIn,
                                                                       tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)
    ledger = SqliteLedger(tmp_path / "redelivery.sqlite3")
    missed = plant_missed(standin, 2)
    [received] = plant_missed(standin, 1)  # failed at GitHub (too slow an answer) but queued here
    queue.enqueue(received, "pull_request", load_example("pull_request.opened"))
    since = NOW - timedelta(hours=1)

    first = recover_missed(deliveries(standin), ledger, queue.received, since=since, max_per_run=10)
    standin.hook.wait_idle()
    assert (sorted(first.redelivered), first.already_received, first.errors) == (sorted(missed), 1, [])
    redelivered_ids = sorted(int(r.path.split("/")[4]) for r in standin.requests_to("POST", ATTEMPTS))
    assert redelivered_ids == sorted(standin.hook.attempts(g)[0]["id"] for g in missed)
    # The App is still unreachable: the redeliveries failed too; they are not asked for again.
    assert [a["redelivery"] for a in standin.hook.attempts(missed[0])] == [False, True]
    second = recover_missed(deliveries(standin), ledger, queue.received, since=since, max_per_run=10)
    assert (second.redelivered, second.already_redelivered) == ([], 2)
    assert len(standin.requests_to("POST", ATTEMPTS)) == 2
    # Only the App's JWT (checked by the stand-in: signed with the App's key, iss = the App id) opens the log.
    assert {r.authorization[:10] for r in standin.requests_to("GET", "/app/hook/deliveries")} == {"Bearer eyJ"}


def test_pages_are_followed_by_cursor_until_the_look_back_ends(standin: GitHubStandIn) -> None:
    plant_missed(standin, 30, age=timedelta(days=2))  # older than the look-back: never looked at
    recent = plant_missed(standin, 230)
    source = deliveries(standin)
    listed = list(source.recent(NOW - timedelta(days=1), per_page=100))
    assert sorted(d.guid for d in listed) == sorted(recent)
    # 100 + 100 + 30 recent, then the first old one stops the listing: 3 pages, not 3 + 1.
    pages = standin.requests_to("GET", "/app/hook/deliveries")
    assert [r.query.get("cursor", "") != "" for r in pages] == [False, True, True]
    assert source.calls == 3
    schema = json.loads(OPENAPI_SUBSET.read_text())["paths"]["/app/hook/deliveries"]["get"]["responseSchema"]
    items, _ = standin.hook.page(100, None)
    jsonschema.validate(items, schema)  # the stand-in answers in GitHub's documented shape


def test_a_run_is_bounded_and_the_rest_waits_for_the_next(standin: GitHubStandIn, tmp_path: Path) -> None:
    missed = plant_missed(standin, 5)
    ledger = SqliteLedger(tmp_path / "redelivery.sqlite3")
    since = NOW - timedelta(hours=1)
    first = recover_missed(deliveries(standin), ledger, lambda guid: False, since=since, max_per_run=2)
    second = recover_missed(deliveries(standin), ledger, lambda guid: False, since=since, max_per_run=2)
    assert (len(first.redelivered), first.deferred, len(second.redelivered), second.deferred) == (2, 3, 2, 1)
    assert first.redelivered + second.redelivered == missed[:4]  # oldest first


def test_a_redelivery_github_could_not_take_is_tried_again_a_refused_one_not(standin: GitHubStandIn,
                                                                               tmp_path: Path) -> None:
    [flaky, refused] = plant_missed(standin, 2)
    ledger = SqliteLedger(tmp_path / "redelivery.sqlite3")
    standin.fail_next(1, status=502, path_contains="/attempts")  # the first (oldest: flaky) fails
    standin.fail_next(1, status=422, path_contains="/attempts")  # the second is refused for good
    since = NOW - timedelta(hours=1)
    first = recover_missed(deliveries(standin), ledger, lambda guid: False, since=since, max_per_run=10)
    assert [e.split(":")[0] for e in first.errors] == [flaky, refused] and first.redelivered == []
    second = recover_missed(deliveries(standin), ledger, lambda guid: False, since=since, max_per_run=10)
    assert (second.redelivered, second.already_redelivered) == ([flaky], 1)


def test_the_delivery_log_refuses_anything_but_the_apps_jwt(standin: GitHubStandIn, private_key_pem: str) -> None:
    with pytest.raises(GitHubError, match="refused to list the App's webhook deliveries: 401"):
        list(AppDeliveries(standin.base_url, APP_ID, private_key_pem).recent(NOW))  # another key


def test_one_run_per_interval_across_processes_sqlite(tmp_path: Path) -> None:
    clock = [1000.0]
    a = SqliteLedger(tmp_path / "l.sqlite3", clock=lambda: clock[0])
    b = SqliteLedger(tmp_path / "l.sqlite3", clock=lambda: clock[0])
    assert (a.claim_run("a", 300), b.claim_run("b", 300), a.claim_run("a", 300)) == (True, False, False)
    clock[0] += 300
    assert (b.claim_run("b", 300), a.claim_run("a", 300)) == (True, False)
    assert (a.remember("g"), b.remember("g")) == (True, False)
    b.forget("g")
    assert a.remember("g")


def test_one_run_per_interval_across_processes_redis(tmp_path: Path) -> None:
    import redis

    with running_redis(tmp_path) as url:
        a, b = RedisLedger(redis.Redis.from_url(url)), RedisLedger(redis.Redis.from_url(url))
        assert (a.claim_run("a", 300), b.claim_run("b", 300)) == (True, False)
        assert (a.remember("g"), b.remember("g")) == (True, False)
        b.forget("g")
        assert a.remember("g")


def test_a_run_that_cannot_reach_github_says_so_and_the_loop_goes_on(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    settings = AppSettings(app_id=APP_ID, private_key=app_private_key(), webhook_secret="s",
                           api_url="http://127.0.0.1:9", data_dir=tmp_path)
    loop = RecoveryLoop(settings, lambda guid: False)
    with caplog.at_level("WARNING"):
        report = loop.run_if_due()
    assert report is not None and report.errors and report.github_calls == 1
    assert "missed-delivery recovery could not run: could not reach GitHub" in caplog.text
    assert loop.run_if_due() is None  # the interval's lease is taken: the next run is the next interval


def settings_env(private_key_pem: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**base_env(private_key_pem, tmp_path), **extra}


def test_settings(private_key_pem: str, tmp_path: Path) -> None:
    defaults = AppSettings.from_env({k: v for k, v in base_env(private_key_pem, tmp_path).items()
                                     if not k.startswith("GITOPS_BOT_REDELIVERY")})
    assert (defaults.redelivery_interval_seconds, defaults.redelivery_lookback_seconds,
            defaults.redelivery_max_per_run) == (300, 3 * 24 * 3600, 20)
    off = AppSettings.from_env(settings_env(private_key_pem, tmp_path, GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS="0"))
    assert off.redelivery_interval_seconds == 0
    bad: dict[str, Any] = {"GITOPS_BOT_REDELIVERY_LOOKBACK_SECONDS": "259201"}
    with pytest.raises(ConfigError, match="GITOPS_BOT_REDELIVERY_LOOKBACK_SECONDS must be at most 259200"):
        AppSettings.from_env(settings_env(private_key_pem, tmp_path, **bad))
    with pytest.raises(ConfigError, match="GITOPS_BOT_REDELIVERY_MAX_PER_RUN must be at least 1"):
        AppSettings.from_env(settings_env(private_key_pem, tmp_path, GITOPS_BOT_REDELIVERY_MAX_PER_RUN="0"))


def test_the_rq_worker_recovers_a_missed_delivery_in_the_distributed_mode(private_key_pem: str,
                                                                          tmp_path: Path) -> None:
    server = GitHubStandIn(app_id=APP_ID)
    with server.serving(), running_redis(tmp_path) as redis_url:
        env = base_env(private_key_pem, tmp_path, GITOPS_BOT_QUEUE="redis", GITOPS_BOT_REDIS_URL=redis_url,
                       GITHUB_APP_ID=str(APP_ID), GITHUB_APP_PRIVATE_KEY=app_private_key(),
                       GITHUB_API_URL=server.base_url)
        port = free_port()
        server.hook.hook_to(f"http://127.0.0.1:{port}", SECRET)
        missed = server.hook.send("pull_request", load_example("pull_request.opened"))  # nobody listens yet
        with run_gunicorn(env, port):  # the web front runs no recovery in this mode; the worker does
            worker = subprocess.Popen([sys.executable, "-m", "bot.app.worker"], cwd=REPO_ROOT,
                                      env=subprocess_env({**env, "GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS": "300"}),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                records = wait_for(lambda: read_records(tmp_path / "requests.jsonl"), timeout=60)
            finally:
                worker.terminate()
                worker.wait(20)
        assert [r["delivery_id"] for r in records] == [missed]
        assert [a["redelivery"] for a in server.hook.attempts(missed)] == [False, True]
        assert len(server.requests_to("POST", ATTEMPTS)) == 1
    assert all_request_problems(server.requests) == []
