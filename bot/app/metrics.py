"""Prometheus metrics of one app instance, on its own registry so tests can build many apps."""

from __future__ import annotations

import math
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Events we route; anything else is labelled "other" so a hostile sender cannot grow label sets.
KNOWN_EVENTS = frozenset(
    {
        "pull_request",
        "check_suite",
        "check_run",
        "merge_group",
        "issue_comment",
        "installation",
        "installation_repositories",
        "ping",
        "push",
    }
)


def event_label(event: str) -> str:
    return event if event in KNOWN_EVENTS else "other"


class BotMetrics:
    """The counters the web front and the embedded workers update."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "gitops_bot_deliveries",
            "Webhook deliveries received, by event and result",
            ["event", "result"],
            registry=self.registry,
        )
        self.signature_failures = Counter(
            "gitops_bot_signature_failures",
            "Deliveries rejected because X-Hub-Signature-256 was missing or wrong",
            registry=self.registry,
        )
        self.duplicates = Counter(
            "gitops_bot_duplicate_deliveries",
            "Deliveries whose id was already queued (GitHub redeliveries)",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "gitops_bot_queue_depth", "Deliveries waiting in the queue", registry=self.registry
        )
        self.job_duration = Histogram(
            "gitops_bot_job_duration_seconds",
            "Time spent handling one queued delivery",
            ["event"],
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.evaluations = Counter(
            "gitops_bot_evaluations",
            "Evaluations finished, by outcome (the check run conclusion, or error)",
            ["outcome"],
            registry=self.registry,
        )

    def track_queue_depth(self, depth: Callable[[], int]) -> None:
        """Read the depth at scrape time; a queue that cannot answer reports NaN rather than failing /metrics."""

        def safe_depth() -> float:
            try:
                return float(depth())
            except Exception:
                return math.nan

        self.queue_depth.set_function(safe_depth)

    def delivery(self, event: str, result: str) -> None:
        self.deliveries.labels(event=event_label(event), result=result).inc()
