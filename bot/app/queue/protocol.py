"""What a queue is to the web front and the workers: the `JobQueue` Protocol and the handler it calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

# Called by a worker for each queued delivery; raising means "retry later", unless the exception's
# ``retryable`` is False (it can never succeed). A handler may also offer ``abandon(event, payload,
# delivery_id, reason)`` (complete what a job given up for good left open) and ``close()`` (on stop).
DeliveryHandler = Callable[[str, dict[str, Any], str], None]  # (event, payload, delivery_id)


class JobQueue(Protocol):
    backend: str

    def enqueue(self, delivery_id: str, event: str, payload: dict[str, Any], *, body: bytes | None = None) -> bool:
        """Store a delivery durably; False if this delivery id was already accepted (GitHub redelivery).

        ``body``: the JSON text ``payload`` was parsed from; a backend that stores text keeps it
        as is instead of serialising ``payload`` again (the web front's largest cost per delivery).
        """

    def received(self, delivery_id: str) -> bool:
        """True if this delivery id was ever accepted (the dedupe record; the missed-delivery recovery asks)."""

    def ping(self) -> bool:
        """True when the queue can accept work right now (used by /readyz)."""

    def depth(self) -> int:
        """Deliveries accepted but not yet claimed by a worker."""

    def oldest_age(self) -> float:
        """Seconds the oldest delivery not yet claimed has waited; 0 when none waits (for /metrics)."""

    def start_workers(self, handler: DeliveryHandler) -> None:
        """Start in-process workers, if this backend has any (idempotent within one process)."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop in-process workers, waiting up to ``timeout`` s; unfinished jobs are handed back to the queue."""
