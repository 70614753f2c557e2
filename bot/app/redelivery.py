"""Missed-delivery recovery: ask GitHub to resend the webhook deliveries that failed and never arrived here.

GitHub does not retry a failed delivery (the App was down, answered 5xx or too slowly); it keeps
three days of deliveries and offers a redelivery API. At start-up and every interval one process of
the deployment (a run lease) lists the recent deliveries and redelivers, once each, those GitHub
marks failed whose guid (X-GitHub-Delivery) the queue never accepted. The embedded mode runs it in
the gunicorn workers, the distributed mode in the RQ workers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.app.redelivery_ledger import RedeliveryLedger, RedisLedger, SqliteLedger
from bot.app.settings import REDELIVERY_RETENTION_SECONDS, AppSettings
from bot.errors import GitHubError
from bot.github.deliveries import AppDeliveries, DeliveryRequestRefused, HookDelivery

log = logging.getLogger(__name__)

RETENTION = timedelta(seconds=REDELIVERY_RETENTION_SECONDS)  # GitHub lists no older deliveries
LEDGER_FILE = "redelivery.sqlite3"
POLL_SECONDS = 30.0  # how often each process asks for the run lease (a cheap local or Redis write)


class DeliverySource(Protocol):
    """The delivery log on GitHub (`bot.github.deliveries.AppDeliveries`)."""

    calls: int

    def recent(self, since: datetime) -> Iterable[HookDelivery]: ...

    def redeliver(self, delivery_id: int) -> None: ...

    def close(self) -> None: ...


@dataclass
class RecoveryReport:
    """What one run saw and did: the figures of its log line."""

    listed: int = 0
    missed: int = 0  # failed at GitHub, never accepted here
    redelivered: list[str] = field(default_factory=list)  # guids
    already_received: int = 0  # failed at GitHub (e.g. a slow answer) but queued here all the same
    already_redelivered: int = 0
    deferred: int = 0  # past the per-run bound: the next run takes them
    errors: list[str] = field(default_factory=list)
    github_calls: int = 0


def missed_at_github(deliveries: Iterable[HookDelivery]) -> list[HookDelivery]:
    """Per guid, its latest attempt if none succeeded; in the order the events first happened.

    A guid with one successful attempt (a person or an earlier run redelivered it) is done.
    """
    latest: dict[str, HookDelivery] = {}
    first: dict[str, tuple[datetime, int]] = {}
    succeeded: set[str] = set()
    for delivery in deliveries:
        first[delivery.guid] = min(first.get(delivery.guid, (delivery.delivered_at, delivery.id)),
                                   (delivery.delivered_at, delivery.id))
        if not delivery.failed:
            succeeded.add(delivery.guid)
        elif delivery.guid not in latest or delivery.id > latest[delivery.guid].id:
            latest[delivery.guid] = delivery
    missed = [d for guid, d in latest.items() if guid not in succeeded]
    return sorted(missed, key=lambda d: first[d.guid])


def recover_missed(source: DeliverySource, ledger: RedeliveryLedger, received: Callable[[str], bool], *,
                   since: datetime, max_per_run: int) -> RecoveryReport:
    """One recovery run (the caller holds the run lease; `RedeliveryLedger.remember` makes it safe anyway)."""
    report = RecoveryReport()
    listed = list(source.recent(since))
    report.listed = len(listed)
    for delivery in missed_at_github(listed):
        if received(delivery.guid):
            report.already_received += 1
            continue
        report.missed += 1
        if len(report.redelivered) >= max_per_run:
            report.deferred += 1
            continue
        if not ledger.remember(delivery.guid):
            report.already_redelivered += 1
            continue
        try:
            source.redeliver(delivery.id)
        except GitHubError as exc:
            # A refusal (4xx: too old, unknown) stays remembered; a failure to get through is tried again later.
            if not (isinstance(exc, DeliveryRequestRefused) and 400 <= exc.status < 500 and exc.status != 429):
                ledger.forget(delivery.guid)
            report.errors.append(f"{delivery.guid}: {exc}")
            continue
        log.info("redelivery requested for %s (%s%s): GitHub recorded it as failed: %s", delivery.guid,
                 delivery.event, f".{delivery.action}" if delivery.action else "", delivery.status,
                 extra={"delivery_id": delivery.guid, "event": delivery.event,
                        "installation": delivery.installation_id})
        report.redelivered.append(delivery.guid)
    report.github_calls = source.calls
    return report


def ledger_for(settings: AppSettings) -> RedeliveryLedger:
    """The run lease and guid memory of this deployment: its Redis, or a file beside the embedded queue."""
    if settings.queue_backend == "redis":
        from bot.app.queue.redis_queue import connect

        return RedisLedger(connect(settings.redis_url or ""))
    return SqliteLedger(settings.data_dir / LEDGER_FILE)


class RecoveryLoop:
    """The background thread of one process: run when this process wins the lease, then sleep."""

    def __init__(self, settings: AppSettings, received: Callable[[str], bool],
                 ledger: RedeliveryLedger | None = None,
                 source_factory: Callable[[], DeliverySource] | None = None) -> None:
        self.settings = settings
        self._received = received
        self._ledger = ledger or ledger_for(settings)
        self._source_factory = source_factory or (
            lambda: AppDeliveries(settings.api_url, settings.app_id, settings.private_key))
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._started_pid: int | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread in this process (idempotent; after a fork the child starts its own)."""
        with self._lock:
            if self._started_pid == os.getpid():
                return
            self._started_pid = os.getpid()
            self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self._stop.clear()
            threading.Thread(target=self._loop, name="gitops-bot-redelivery", daemon=True).start()
            log.info("missed-delivery recovery: every %d s, looking back %d s, at most %d per run",
                     self.settings.redelivery_interval_seconds, self.settings.redelivery_lookback_seconds,
                     self.settings.redelivery_max_per_run)

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        poll = min(POLL_SECONDS, max(self.settings.redelivery_interval_seconds / 4, 0.5))
        while not self._stop.is_set():
            try:
                self.run_if_due()
            except Exception:  # noqa: BLE001 - the thread must outlive a bad run; the next one tries again
                log.exception("missed-delivery recovery failed")
            self._stop.wait(poll)

    def run_if_due(self) -> RecoveryReport | None:
        """Run once if this process wins the lease for the coming interval (None: another did, or does)."""
        if not self._ledger.claim_run(self.owner, self.settings.redelivery_interval_seconds):
            return None
        return self.run()

    def run(self) -> RecoveryReport:
        lookback = min(timedelta(seconds=self.settings.redelivery_lookback_seconds), RETENTION)
        since = datetime.now(UTC) - lookback
        source = self._source_factory()
        started = time.monotonic()
        try:
            report = recover_missed(source, self._ledger, self._received, since=since,
                                    max_per_run=self.settings.redelivery_max_per_run)
        except GitHubError as exc:
            log.warning("missed-delivery recovery could not run: %s (%d GitHub calls); the next run tries again",
                        exc, source.calls, extra={"github_calls": source.calls, "outcome": "error"})
            return RecoveryReport(errors=[str(exc)], github_calls=source.calls)
        finally:
            source.close()
        log.info(
            "missed-delivery recovery: %d deliveries listed, %d missed, %d redelivered, %d left for the next run,"
            " %d already received, %d already redelivered, %d errors, %d GitHub calls",
            report.listed, report.missed, len(report.redelivered), report.deferred, report.already_received,
            report.already_redelivered, len(report.errors), report.github_calls,
            extra={"github_calls": report.github_calls, "duration_ms": round((time.monotonic() - started) * 1000),
                   "outcome": "error" if report.errors else "ok"})
        for error in report.errors:
            log.warning("redelivery failed: %s", error)
        if report.redelivered:
            from bot.app import metrics  # prometheus_client: imported once the process has set up its metrics

            metrics.redeliveries_total.inc(len(report.redelivered))
        return report


def start_recovery(settings: AppSettings, received: Callable[[str], bool]) -> RecoveryLoop | None:
    """Start this process's recovery thread, unless GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS=0 turned it off."""
    if settings.redelivery_interval_seconds <= 0:
        return None
    loop = RecoveryLoop(settings, received)
    loop.start()
    return loop
