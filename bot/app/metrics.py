"""The App's Prometheus metrics: what each process counts, and how /metrics (web or worker) shows all of it.

Two kinds of metric live here. `BotMetrics` (deliveries, jobs, evaluations) belongs to one app
instance with its own registry, so tests can build many apps in one process. The process-wide
ones below (GitHub answers, rate limits, superseded jobs, redeliveries) are updated far from
the web front: in evaluation processes, RQ work horses, the recovery loop. With
PROMETHEUS_MULTIPROC_DIR set (gunicorn and the worker set it, see `bot.app.metrics_store`)
every process writes to that directory and any one of them shows the sum of all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.app import metrics_store

log = logging.getLogger(__name__)

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

PROCESS_REGISTRY = CollectorRegistry()
# GitHub's x-ratelimit-resource values (https://docs.github.com/en/rest/rate-limit); anything else is "other".
_RESOURCES = frozenset({"core", "graphql", "search", "code_search", "integration_manifest", "source_import",
                        "code_scanning_upload", "actions_runner_registration", "scim", "dependency_snapshots"})

github_api_calls_total = Counter(
    "gitops_bot_github_api_calls",
    "GitHub answers (REST and GraphQL) to installation-token requests, by HTTP status (304: answered from the ETag cache)",
    ["status"],
    registry=PROCESS_REGISTRY,
)
github_rate_limit_remaining = Gauge(
    "gitops_bot_github_rate_limit_remaining",
    "x-ratelimit-remaining of GitHub's latest answer, per installation and limit (x-ratelimit-resource)",
    ["installation", "resource"],
    multiprocess_mode="mostrecent",
    registry=PROCESS_REGISTRY,
)
superseded_jobs_total = Counter(
    "gitops_bot_superseded_jobs",
    "Queued or running jobs dropped because a newer head sha of the same pull request arrived",
    registry=PROCESS_REGISTRY,
)
redeliveries_total = Counter(
    "gitops_bot_redeliveries",
    "Failed deliveries this App asked GitHub to redeliver (missed-delivery recovery)",
    registry=PROCESS_REGISTRY,
)


def event_label(event: str) -> str:
    return event if event in KNOWN_EVENTS else "other"


class QueueProbe(Protocol):
    """What /metrics asks the queue at scrape time (both backends answer for every process at once)."""

    def depth(self) -> int: ...

    def oldest_age(self) -> float: ...


class QueueCollector(Collector):
    """Queue depth and the age of the oldest waiting delivery, read when scraped.

    A queue that cannot answer yields NaN (and a log line) rather than failing the whole scrape.
    """

    def __init__(self, queue: QueueProbe) -> None:
        self._queue = queue

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("gitops_bot_queue_depth", "Deliveries waiting in the queue",
                                value=self._ask("depth", lambda: float(self._queue.depth())))
        yield GaugeMetricFamily(
            "gitops_bot_queue_oldest_age_seconds",
            "Seconds the oldest waiting delivery has waited (0 when none waits)",
            value=self._ask("oldest age", self._queue.oldest_age),
        )

    @staticmethod
    def _ask(what: str, read: Callable[[], float]) -> float:
        try:
            return float(read())
        except Exception as exc:  # noqa: BLE001 - a scrape must still show everything else
            log.warning("metrics: the queue did not tell its %s: %s: %s", what, type(exc).__name__, exc)
            return float("nan")


class _Union(Collector):
    """Several registries shown as one (single-process mode)."""

    def __init__(self, *registries: CollectorRegistry) -> None:
        self._registries = registries

    def collect(self) -> Iterator[Metric]:
        for registry in self._registries:
            yield from registry.collect()


def exposition(*extra: Collector, registries: tuple[CollectorRegistry, ...] = ()) -> bytes:
    """The /metrics text: the multiprocess directory's sum when there is one, else these registries."""
    registry = CollectorRegistry(auto_describe=False)
    path = metrics_store.directory()
    if path is not None:
        registry.register(metrics_store.DirectoryCollector(path))
    else:
        registry.register(_Union(*registries, PROCESS_REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class BotMetrics:
    """The counters the web front, the embedded workers and the standalone worker update."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._probes: list[Collector] = []
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

    def watch_queue(self, queue: QueueProbe) -> None:
        """Show ``queue``'s depth and oldest age on this app's /metrics (read at scrape time)."""
        self._probes.append(QueueCollector(queue))

    def exposition(self) -> bytes:
        return exposition(*self._probes, registries=(self.registry,))

    def delivery(self, event: str, result: str) -> None:
        self.deliveries.labels(event=event_label(event), result=result).inc()

    def evaluation(self, outcome: str) -> None:
        self.evaluations.labels(outcome=outcome).inc()
        if outcome == "superseded":  # `bot.app.supersede`: a newer head took over, nothing was published
            superseded_jobs_total.inc()

    def job_finished(self, event: str, seconds: float) -> None:
        self.job_duration.labels(event=event_label(event)).observe(seconds)

    def time_job(self, event: str, started: float) -> None:
        """``started`` is a `time.monotonic()` reading taken when the job began."""
        self.job_finished(event, time.monotonic() - started)


def serve_directory(port: int) -> None:
    """Serve this process's metrics directory on ``port`` (`gitops-bot-worker`; web processes have /metrics)."""
    from prometheus_client import start_http_server

    path = metrics_store.directory()
    if path is None:
        raise RuntimeError(f"{metrics_store.ENV} is not set: the worker's metrics would miss its work horses")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics_store.DirectoryCollector(path))
    start_http_server(port, registry=registry)


def count_github_answer(installation_id: int, status: int, headers: Mapping[str, object]) -> None:
    """`bot.github.observe` listener: one answer from GitHub, with its rate-limit headers."""
    github_api_calls_total.labels(status=str(status) if 100 <= status <= 599 else "other").inc()
    remaining = headers.get("x-ratelimit-remaining")
    if remaining is None or installation_id <= 0:
        return
    try:
        value = float(str(remaining))
    except ValueError:
        log.warning("GitHub sent a malformed x-ratelimit-remaining: %.40r", remaining)
        return
    resource = str(headers.get("x-ratelimit-resource") or "core")
    if resource not in _RESOURCES:  # a label value from the network: a known few, never free text
        resource = "other"
    github_rate_limit_remaining.labels(installation=str(installation_id), resource=resource).set(value)


def watch_github() -> None:
    """Count this process's GitHub answers (idempotent; each process that calls GitHub calls this)."""
    from bot.github.observe import add_listener

    add_listener(count_github_answer)
