"""Standalone queue worker: ``gitops-bot-worker`` / ``python -m bot.app.worker``.

With GITOPS_BOT_QUEUE=redis it runs an RQ worker on the bot's queue, which hands
every job to the worker's long-lived evaluation process (no work horse forked per
job: the caches stay warm); with the SQLite queue it runs the embedded workers in
the foreground, each evaluating in its own child process, as the web
processes do (useful when those run with GITOPS_BOT_WORKER_THREADS=0).

Its metrics (jobs, evaluations, GitHub answers of its evaluation processes) go to a
private PROMETHEUS_MULTIPROC_DIR and are served on GITOPS_BOT_WORKER_METRICS_PORT:
each worker is its own scrape target, so nothing is counted on two endpoints.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from functools import cache
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bot.app.log_format import configure_root_logging
from bot.app.queue.processes import JobError, JobProcessRunner
from bot.app.settings import AppSettings
from bot.app.warmup import warm_up
from bot.errors import ConfigError

if TYPE_CHECKING:  # RQ is imported where a worker starts; the metrics import prometheus_client, which must wait for main()
    from redis import Redis
    from rq.job import Job

    from bot.app.metrics import BotMetrics

log = logging.getLogger("bot.app.worker")


@cache
def _settings() -> AppSettings:
    return AppSettings.from_env()


@cache
def _metrics() -> BotMetrics:
    from bot.app.metrics import BotMetrics, watch_github

    watch_github()
    return BotMetrics()


# RQ's job timeout (a signal in this process, GITOPS_BOT_JOB_LEASE_SECONDS) ends a job first and
# kills its evaluation process; the runner's own deadline only backs it up.
RUNNER_TIMEOUT_MARGIN_SECONDS = 60.0


@cache
def _runner() -> JobProcessRunner:
    """This RQ worker's evaluation process, kept across jobs (started afresh after a death or a timeout)."""
    settings, metrics = _settings(), _metrics()
    return JobProcessRunner(settings, timeout_seconds=settings.job_lease_seconds + RUNNER_TIMEOUT_MARGIN_SECONDS,
                            on_outcome=metrics.evaluation, on_duration=metrics.job_finished)


def process_delivery(event: str, payload: dict[str, Any], delivery_id: str) -> str:
    """The RQ job function: one delivery through the worker's evaluation process (raising makes RQ retry it).

    An error that can never succeed (``retryable = False``: GitHub said 404/410/422) ends the job
    instead: retrying would only repeat it.
    """
    try:
        _runner()(event, payload, delivery_id)
    except JobError as exc:
        if exc.retryable:
            raise
        log.error("[%s] %s delivery failed for good, not retried: %s", delivery_id, event, exc)
        abandon_delivery(event, payload, delivery_id, str(exc))
        return f"failed: {exc}"
    return "done"


def abandon_delivery(event: str, payload: dict[str, Any], delivery_id: str, reason: str) -> None:
    """The delivery will not run again: complete its open check run as failed, saying why (best effort).

    Only runs still ``in_progress`` are touched, so after an attempt that completed its own run this
    changes nothing. It runs in the evaluation process, like the job.
    """
    try:
        _runner().abandon(event, payload, delivery_id, reason)
    except JobError as exc:  # logged; the job is failed either way
        log.error("[%s] could not complete what the abandoned delivery started: %s", delivery_id, exc)


def delivery_failed(job: Job, connection: Redis, exc_type: type[BaseException] | None,
                    exc: BaseException | None, traceback: TracebackType | None) -> None:
    """RQ's failure callback: after the last attempt, the open check run ends as failed.

    RQ calls it after every failed attempt (in the worker; for a job whose worker died, in RQ's
    registry cleanup) and before it decides about a retry, so ``retries_left`` still counts this attempt.
    """
    if job.should_retry:  # another attempt follows and continues the same check run
        return
    from bot.app.queue.rq_worker import ENDED_BY_WORKER

    if job.meta.get(ENDED_BY_WORKER):  # handed back on shutdown (the next worker continues the run) or stopped
        return
    from rq.exceptions import AbandonedJobError
    from rq.timeouts import JobTimeoutException

    if exc_type is not None and issubclass(exc_type, JobTimeoutException):
        reason = (f"the evaluation ran longer than {job.timeout} s and was stopped "
                  "(GITOPS_BOT_JOB_LEASE_SECONDS)")
    elif exc_type is not None and issubclass(exc_type, AbandonedJobError):
        reason = "the worker running it died on the last attempt"
    elif isinstance(exc, JobError) and exc.death:  # SIGKILL, a memory limit, a native crash
        reason = f"the process running it died ({exc.death}) on the last attempt"
    else:
        error_type = exc.error_type if isinstance(exc, JobError) else ""  # what the job raised in its process
        reason = ("it failed on every attempt, the last time with "
                  f"{error_type or getattr(exc_type, '__name__', 'an error')}")
    _abandon_job(job, reason)


def delivery_stopped(job: Job, connection: Redis) -> None:
    """RQ's stopped callback (``rq`` was told to stop the job): it is not retried, so its run ends now."""
    _abandon_job(job, "the job was stopped by an operator")


def _abandon_job(job: Job, reason: str) -> None:
    event, payload, delivery_id = job.args
    log.warning("[%s] %s delivery given up after its last attempt: %s", delivery_id, event, reason)
    abandon_delivery(event, payload, delivery_id, reason)


def run_rq_worker(settings: AppSettings) -> None:
    from rq import Queue

    from bot.app.queue.redis_queue import QUEUE_NAME, RedisQueue, connect
    from bot.app.queue.rq_worker import EvaluationProcessWorker
    from bot.app.redelivery import start_recovery

    connection = connect(settings.redis_url or "")
    start_recovery(settings, RedisQueue(settings).received)
    runner = _runner()
    runner.prestart()  # it compiles schemas and policies now, not during the first job
    worker = EvaluationProcessWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection,
                                     runner=runner, shutdown_seconds=settings.worker_shutdown_seconds)
    try:
        worker.work(with_scheduler=True)  # the scheduler runs the delayed retries
    finally:
        runner.close()


def run_sqlite_worker(settings: AppSettings) -> None:
    from bot.app.queue.processes import JobProcessRunner
    from bot.app.queue.sqlite_queue import SqliteQueue

    queue = SqliteQueue(
        settings.data_dir / "queue.sqlite3",
        lease_seconds=settings.job_lease_seconds,
        worker_threads=max(settings.worker_threads, 1),
    )
    warm_up()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    metrics = _metrics()
    queue.start_workers(JobProcessRunner(settings, timeout_seconds=settings.job_timeout_seconds,
                                         on_outcome=metrics.evaluation, on_duration=metrics.job_finished))
    stopping.wait()
    queue.stop()


def main(argv: list[str] | None = None) -> int:
    try:  # GITOPS_BOT_LOG_FORMAT / _LEVEL, with the same credential masking as the web processes
        configure_root_logging("%(asctime)s %(levelname)s %(name)s %(message)s")
        settings = _settings()
    except ConfigError as e:
        print(f"gitops-bot-worker: {e}", file=sys.stderr)
        return 2
    from bot.app.metrics_store import remove_directory, use_private_directory

    # Before anything imports prometheus_client: this process, its work horses and evaluation
    # processes all count into this directory, whatever PROMETHEUS_MULTIPROC_DIR it inherited.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    metrics_dir = use_private_directory("gitops-bot-worker-metrics-")
    try:
        serve_metrics(settings)
        if settings.queue_backend == "redis":
            run_rq_worker(settings)
        else:
            run_sqlite_worker(settings)
    finally:
        remove_directory(metrics_dir)
    return 0


def serve_metrics(settings: AppSettings) -> None:
    if not settings.worker_metrics_port:
        log.info("no metrics endpoint: set GITOPS_BOT_WORKER_METRICS_PORT to scrape this worker")
        return
    from bot.app.metrics import serve_directory

    serve_directory(settings.worker_metrics_port)
    log.info("metrics on :%d/metrics", settings.worker_metrics_port)


if __name__ == "__main__":
    # Run the importable module's main, not this __main__ copy: RQ imports "bot.app.worker" by name,
    # and the job function must find the evaluation process started by that module.
    from bot.app.worker import main as worker_main

    sys.exit(worker_main())
