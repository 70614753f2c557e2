"""The durable buffer between the webhook front and the evaluations: one Protocol, two backends."""

from __future__ import annotations

from bot.app.queue.protocol import DeliveryHandler, JobQueue
from bot.app.settings import AppSettings

__all__ = ["DeliveryHandler", "JobQueue", "make_queue"]


def make_queue(settings: AppSettings) -> JobQueue:
    """The queue named by ``settings.queue_backend``."""
    if settings.queue_backend == "redis":
        from bot.app.queue.redis_queue import RedisQueue

        return RedisQueue(settings)
    from bot.app.queue.sqlite_queue import SqliteQueue

    return SqliteQueue(
        settings.data_dir / "queue.sqlite3",
        lease_seconds=settings.job_lease_seconds,
        worker_threads=settings.worker_threads,
    )
