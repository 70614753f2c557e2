"""The RQ worker class of `python -m bot.app.worker`: jobs run in a kept evaluation process, a SIGTERM ends it in a bound.

RQ's default worker forks a work horse per job, and every compiled schema, policy and
cache the job builds dies with it (~4 s per evaluation instead of ~0.3 s warm). This
worker forks nothing: the job function runs in the worker process and hands the
delivery to the worker's long-lived evaluation process (`JobProcessRunner`, as in the
embedded mode: spawned, killed after a death or a timeout and started afresh), so
isolation is kept and the caches survive from one job to the next.

RQ's warm shutdown waits for the running job however long it takes. Ours gives it
``shutdown_seconds``; then the evaluation process is killed and the job handed back
to the front of the queue, its attempts untouched (a shutdown is not a failure), so
the next worker continues it: the check run it left in progress is reused.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

from rq import Queue, SimpleWorker
from rq.callbacks import execute_stopped_callback
from rq.executions import Execution
from rq.job import Job
from rq.registry import FailedJobRegistry

from bot.app.queue.processes import JobProcessRunner

log = logging.getLogger(__name__)

# In the running job's meta (in memory) when this worker ended it on purpose (a shutdown, RQ's stop-job
# command): the job's failure callback then leaves its check run alone (`bot.app.worker.delivery_failed`).
ENDED_BY_WORKER = "gitops_bot_ended_by_worker"


class EvaluationProcessWorker(SimpleWorker):
    shutdown_seconds: float = 20.0

    def __init__(self, *args: Any, runner: JobProcessRunner, shutdown_seconds: float = 20.0,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runner = runner  # the job function (`bot.app.worker.process_delivery`) hands its delivery to it
        self.shutdown_seconds = shutdown_seconds
        self._handing_back: str | None = None  # the id of the job we stopped on shutdown
        self._running: Job | None = None  # the job object the job function and its callbacks see

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Warm shutdown, with a deadline for the running job (idle: RQ stops at once by raising)."""
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # RQ leaves it unannotated
        timer = threading.Timer(self.shutdown_seconds, self._hand_back)
        timer.daemon = True
        timer.start()

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        self._running = job
        try:
            return bool(super().perform_job(job, queue, execution))
        finally:
            self._running = None

    def _hand_back(self) -> None:
        job = self._running
        if job is None:
            return
        job.meta[ENDED_BY_WORKER] = "shutdown"
        log.warning("worker %s: job %s still running %g s after SIGTERM; stopping it and handing it back",
                    self.name, job.id, self.shutdown_seconds)
        self._handing_back = job.id
        self.runner.close()  # kills the evaluation process: the job fails in the worker, is requeued below

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """RQ's stop-job command and cold shutdown: the evaluation process is what runs the job here."""
        job = self._running
        if job is not None and job.id == self._stopped_job_id:
            job.meta[ENDED_BY_WORKER] = "stopped"
        for pid in self.runner.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def handle_job_failure(self, job: Job, queue: Queue, started_job_registry: Any = None, exc_string: str = "",
                           execution: Any = None) -> None:
        if self._handing_back != job.id:
            if job.id == self._stopped_job_id:  # RQ's forking worker runs this callback; SimpleWorker does not
                try:
                    execute_stopped_callback(job, self.death_penalty_class)
                except Exception:  # noqa: BLE001 - as RQ: the job is stopped either way
                    log.exception("worker %s: stopped callback for job %s raised", self.name, job.id)
            super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
            return
        retries_left = job.retries_left
        job.retries_left = 0  # let RQ clean up as for a final failure, then requeue it with its attempts intact
        super().handle_job_failure(job, queue, started_job_registry, "handed back on shutdown", execution)
        job.retries_left = retries_left
        FailedJobRegistry(queue=queue).requeue(job, at_front=True)
        log.warning("worker %s: job %s handed back to the queue", self.name, job.id)

    def unsubscribe(self) -> None:
        """Stop the pubsub thread before unsubscribing, with a bounded wait.

        RQ unsubscribes first: the thread may then sit in redis-py's 60 s wait for a new
        subscription, and redis-py >= 8 joins it without a timeout, so a SIGTERM could take a minute.
        """
        thread = self.pubsub_thread
        if thread is None:
            return
        try:
            thread.stop(timeout=1)
        except TypeError:  # redis-py < 8: stop() only clears the flag
            thread.stop()
        self.pubsub.unsubscribe()
        thread.join(timeout=1)
        self.pubsub.close()
