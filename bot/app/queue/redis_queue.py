"""Redis + RQ backend: deliveries become RQ jobs run by `python -m bot.app.worker` on any host."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Callback, Queue, Retry

from bot.app.queue.protocol import DeliveryHandler
from bot.app.settings import AppSettings

log = logging.getLogger(__name__)

QUEUE_NAME = "gitops-bot"
JOB_FUNCTION = "bot.app.worker.process_delivery"
# Run in the work horse after every failed attempt (and by RQ's cleanup for a job whose worker died);
# they complete the delivery's open check run once no attempt is left (see `bot.app.worker.delivery_failed`).
FAILURE_CALLBACK = "bot.app.worker.delivery_failed"
STOPPED_CALLBACK = "bot.app.worker.delivery_stopped"
DEDUPE_KEY_PREFIX = "gitops-bot:delivery:"
DEDUPE_TTL_SECONDS = 14 * 24 * 3600  # GitHub lets users redeliver recent deliveries; keep ids this long
RETRY_MAX, RETRY_INTERVALS = 2, [10, 60]  # needs the RQ scheduler: the worker runs with_scheduler=True
_SAFE_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def job_id_for(delivery_id: str) -> str:
    """RQ accepts only [A-Za-z0-9_-] job ids; GitHub's are UUIDs, anything else is hashed."""
    if _SAFE_JOB_ID.fullmatch(delivery_id):
        return f"delivery-{delivery_id}"
    return "delivery-" + hashlib.sha256(delivery_id.encode()).hexdigest()[:40]


def connect(url: str) -> redis.Redis:
    # Short timeouts: /readyz and the webhook must answer quickly even when Redis is gone.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


class RedisQueue:
    """A `JobQueue` over Redis; workers are separate RQ processes (see `bot.app.worker`)."""

    backend = "redis"

    def __init__(self, settings: AppSettings, connection: redis.Redis | None = None,
                 retry: Retry | None = None) -> None:
        if not settings.redis_url and connection is None:
            raise ValueError("RedisQueue needs settings.redis_url")
        self.connection = connection or connect(settings.redis_url or "")
        self.job_timeout = settings.job_lease_seconds
        self.queue = Queue(QUEUE_NAME, connection=self.connection)
        self.retry = retry or Retry(max=RETRY_MAX, interval=RETRY_INTERVALS)  # tests pass a short one

    def enqueue(self, delivery_id: str, event: str, payload: dict[str, Any], *, body: bytes | None = None) -> bool:
        key = DEDUPE_KEY_PREFIX + delivery_id
        if not self.connection.set(key, "1", nx=True, ex=DEDUPE_TTL_SECONDS):
            return False
        try:
            self.queue.enqueue(
                JOB_FUNCTION,
                event,
                payload,
                delivery_id,
                job_id=job_id_for(delivery_id),
                job_timeout=self.job_timeout,
                retry=self.retry,
                on_failure=Callback(FAILURE_CALLBACK),
                on_stopped=Callback(STOPPED_CALLBACK),
                failure_ttl=DEDUPE_TTL_SECONDS,
                description=f"{event} delivery {delivery_id}",
            )
        except Exception:
            self.connection.delete(key)  # not queued: let GitHub's redelivery through
            raise
        return True

    def received(self, delivery_id: str) -> bool:
        return bool(self.connection.exists(DEDUPE_KEY_PREFIX + delivery_id))

    def ping(self) -> bool:
        try:
            return bool(self.connection.ping())
        except redis.RedisError as e:
            log.warning("redis unreachable: %s", e)
            return False

    def depth(self) -> int:
        return self.queue.count

    def oldest_age(self) -> float:
        """From the enqueue time of the job at the head of RQ's list (RQ runs them in order)."""
        for job_id in self.queue.get_job_ids(0, 5):  # the head, or the next if it just expired
            job = self.queue.fetch_job(job_id)
            if job is not None and job.enqueued_at is not None:
                enqueued = job.enqueued_at.replace(tzinfo=job.enqueued_at.tzinfo or UTC)
                return max((datetime.now(UTC) - enqueued).total_seconds(), 0.0)
        return 0.0

    def start_workers(self, handler: DeliveryHandler) -> None:
        """Nothing to start here: RQ workers are their own processes (`python -m bot.app.worker`)."""

    def stop(self, timeout: float = 5.0) -> None:
        self.connection.close()
