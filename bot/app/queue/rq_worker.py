"""The RQ worker class of `python -m bot.app.worker`: a SIGTERM ends it within a bound, losing no job.

RQ's warm shutdown waits for the running job however long it takes. Ours gives it
``shutdown_seconds``; then the work horse is killed and its job handed back to the
front of the queue, its attempts untouched (a shutdown is not a failure), so the
next worker continues it: the check run it left in progress is reused.
"""

from __future__ import annotations

import logging
import threading
from types import FrameType
from typing import Any

from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry

log = logging.getLogger(__name__)


class BoundedShutdownWorker(Worker):
    shutdown_seconds: float = 20.0

    def __init__(self, *args: Any, shutdown_seconds: float = 20.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shutdown_seconds = shutdown_seconds
        self._handing_back: str | None = None  # the id of the job whose horse we stopped on shutdown

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Warm shutdown, with a deadline for the running job (idle: RQ stops at once by raising)."""
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # RQ leaves it unannotated
        timer = threading.Timer(self.shutdown_seconds, self._hand_back)
        timer.daemon = True
        timer.start()

    def _hand_back(self) -> None:
        job = self.get_current_job()
        if not self.horse_pid or job is None:
            return
        log.warning("worker %s: job %s still running %g s after SIGTERM; stopping it and handing it back",
                    self.name, job.id, self.shutdown_seconds)
        self._handing_back = job.id
        self.kill_horse()

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        if self._handing_back != job.id:  # a death, not our stop: the delivery's own handling applies
            super().handle_work_horse_killed(job, retpid, ret_val, rusage)  # type: ignore[no-untyped-call]  # RQ: unannotated

    def handle_job_failure(self, job: Job, queue: Queue, started_job_registry: Any = None, exc_string: str = "",
                           execution: Any = None) -> None:
        if self._handing_back != job.id:
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
