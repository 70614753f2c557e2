"""Evaluation processes: each embedded queue worker runs its jobs in a long-lived child process of its own.

Why: an evaluation may burn CPU inside native code that holds the GIL (a Rego
engine), crash the interpreter or hit a resource limit. In a thread of the web
process that would stop webhook acknowledgements and /healthz, and take the
web worker down with it. In a child process it only costs that child: the
parent (the queue worker thread in the web process) waits on a pipe without
holding the GIL, kills the child after the job timeout, starts a fresh one
after a death, and reports the outcome to the durable queue as before.

The child keeps its caches (compiled schemas and policies, tokens, blobs)
across jobs; it is started with ``spawn`` (a clean interpreter, never a fork
of the threaded web process) and exits by itself when its parent is gone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from bot.app.settings import DEFAULT_SERVICE_FACTORY, AppSettings

if TYPE_CHECKING:  # types only: the web process must not import the service's edge
    from bot.app.evaluation_service import CommandOutcome, EvaluationRequest, EvaluationService
    from bot.commands.events import CommentEvent

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
POLL_SECONDS = 0.2
# Evaluations are background work; answering GitHub within its 10 s (and our 50 ms) is not: on a busy
# host the web threads of the parent get the CPU first. On an idle host the niceness changes nothing.
EVALUATION_NICENESS = 10


class JobError(Exception):
    """A job failed in its process; ``retryable`` False means another attempt cannot succeed.

    ``leaves_work_open``: the process died or was stopped mid-job, so what it started (a check
    run in progress) is still open; a job that raised has already completed its check run.
    ``death``: how the process died mid-job ("signal 9", "exit code 1"), empty if it did not;
    ``error_type``: the name of the exception the job raised in its process, empty if none did.
    """

    def __init__(self, message: str, *, retryable: bool = True, leaves_work_open: bool = True,
                 death: str = "", error_type: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.leaves_work_open = leaves_work_open
        self.death = death
        self.error_type = error_type


class JobProcessRunner:
    """A `DeliveryHandler` (plus ``abandon``) that runs every job in the calling thread's own child process."""

    def __init__(self, settings: AppSettings, *, timeout_seconds: float,
                 on_outcome: Callable[[str], None] | None = None,
                 on_duration: Callable[[str, float], None] | None = None) -> None:
        self._settings = settings
        self.timeout_seconds = timeout_seconds
        self._on_outcome = on_outcome  # each evaluation's conclusion label, as the child reports it
        self._on_duration = on_duration  # (event, seconds) of each job, however it ended
        self._local = threading.local()
        self._children: set[_Child] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, event: str, payload: dict[str, Any], delivery_id: str) -> None:
        self._call(("run", event, payload, delivery_id, ""))

    def abandon(self, event: str, payload: dict[str, Any], delivery_id: str, reason: str) -> None:
        """Complete the delivery's open check runs as failed, saying ``reason`` (the job will not run again)."""
        self._call(("abandon", event, payload, delivery_id, reason))

    def close(self) -> None:
        """Kill every child (a graceful stop: their jobs have been handed back to the queue already)."""
        with self._lock:
            self._closed = True
            children, self._children = list(self._children), set()
        for child in children:
            child.kill()

    def prestart(self) -> None:
        """Start the calling thread's evaluation process now: it warms up before the first job, not during it."""
        self._child()

    def pids(self) -> list[int]:
        with self._lock:
            return [c.process.pid for c in self._children if c.process.pid]

    def _call(self, message: tuple[str, str, dict[str, Any], str, str]) -> None:
        started = time.monotonic()
        child = self._child()
        try:
            outcomes = child.call(message, self.timeout_seconds, lambda: self._closed)
        except JobError:
            if not child.alive() or self._closed:  # died, timed out (killed) or stopping
                self._forget(child)
            raise
        except BaseException:  # interrupted while the child works (an RQ job timeout's signal): it must not go on
            self._forget(child)
            raise
        finally:
            if self._on_duration is not None and message[0] == "run":
                self._on_duration(message[1], time.monotonic() - started)
        for label in outcomes:
            if self._on_outcome is not None:
                self._on_outcome(label)

    def _child(self) -> _Child:
        child: _Child | None = getattr(self._local, "child", None)
        if child is None or not child.alive():
            if child is not None:
                self._forget(child)
            with self._lock:
                if self._closed:
                    raise JobError("the worker is stopping", retryable=True)
                child = _Child.start(self._settings)
                self._children.add(child)
            self._local.child = child
        return child

    def _forget(self, child: _Child) -> None:
        child.kill()
        with self._lock:
            self._children.discard(child)
        if getattr(self._local, "child", None) is child:
            self._local.child = None


class _Child:
    """One evaluation process and the parent's end of its pipe."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    @classmethod
    def start(cls, settings: AppSettings) -> _Child:
        parent_end, child_end = _CONTEXT.Pipe(duplex=True)
        process = _CONTEXT.Process(target=serve, args=(child_end, settings, os.getpid()),
                                   name="gitops-bot-evaluation", daemon=False)
        process.start()
        child_end.close()  # the child holds its own copy: a dead child now reads as EOF here
        log.info("evaluation process %d started", process.pid)
        return cls(process, parent_end)

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def call(self, message: tuple[str, str, dict[str, Any], str, str], timeout: float,
             stopping: Callable[[], bool]) -> list[str]:
        """Send one job and wait for its reply; a death, a timeout or a stop becomes a `JobError`."""
        try:
            self.conn.send(message)
        except OSError as exc:
            raise JobError(f"the evaluation process could not take the job: {exc}") from None
        deadline = time.monotonic() + timeout
        while True:
            if self.conn.poll(POLL_SECONDS):
                try:
                    status, error_type, detail, retryable, outcomes = self.conn.recv()
                except (EOFError, OSError):
                    raise self._death() from None
                if status == "error":
                    raise JobError(detail, retryable=retryable, leaves_work_open=False, error_type=error_type)
                return list(outcomes)
            if not self.process.is_alive():
                raise self._death()
            if stopping():
                raise JobError("the worker stopped during the evaluation")
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.join(5)
                # The same input would run as long again: no retry, the check run says why.
                raise JobError(f"the evaluation ran longer than {timeout:g} s and was stopped "
                               "(GITOPS_BOT_JOB_TIMEOUT_SECONDS)", retryable=False)

    def _death(self) -> JobError:
        self.process.join(5)
        code = self.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return JobError(f"the evaluation process died ({how}) during the evaluation", death=how)


# ---- the child side -------------------------------------------------------------------------------


def serve(conn: Connection, settings: AppSettings, parent_pid: int) -> None:
    """Child main loop: one job at a time from the pipe until the parent closes it or dies."""
    _configure_child_logging()
    from bot.app.evaluation_service import MeteredService, load_factory
    from bot.app.handlers import dispatch

    child_log = logging.getLogger("bot.app.queue.evaluation")
    _die_with_parent()
    os.nice(EVALUATION_NICENESS)
    from bot.app.metrics import watch_github

    watch_github()  # into the parent's PROMETHEUS_MULTIPROC_DIR, inherited: its /metrics shows them
    if settings.service_factory == DEFAULT_SERVICE_FACTORY:
        from bot.app.warmup import warm_up

        warm_up()  # this process evaluates: compile schemas and built-in policies before its first job
    service: EvaluationService | None = None
    watchdog = threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True)
    watchdog.start()
    while True:
        try:
            kind, event, payload, delivery_id, reason = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        outcomes: list[str] = []
        try:
            if service is None:
                service = load_factory(settings.service_factory)(settings)
            wrapped = MeteredService(service, outcomes.append) if kind == "run" else Abandoning(service, reason)
            dispatch(event, payload, delivery_id, service=wrapped, settings=settings)
            reply: tuple[str, str, str, bool, list[str]] = ("ok", "", "", True, outcomes)
        except (KeyboardInterrupt, SystemExit):
            return
        except BaseException as exc:  # noqa: BLE001 - also native panics: the parent decides about retries
            retryable = getattr(exc, "retryable", True) is not False
            child_log.error("[%s] %s failed%s: %s: %s", delivery_id or "-", event,
                            "" if retryable else " for good", type(exc).__name__, exc,
                            exc_info=retryable)
            reply = ("error", type(exc).__name__, f"{type(exc).__name__}: {exc}", retryable, outcomes)
        try:
            conn.send(reply)
        except OSError:
            return


def _exit_with_parent(parent_pid: int) -> None:
    """Leave when the parent dies (even mid-job): its queue lease lapses and another worker runs the job.

    Linux kills us at once (`_die_with_parent`), even while native code holds the GIL; this
    thread is the portable fallback.
    """
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(0)


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: the kernel sends SIGKILL when the thread that started us ends (Linux only)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the polling fallback applies


def _configure_child_logging() -> None:
    """The web process's format (GITOPS_BOT_LOG_FORMAT) and credential masking, on the inherited stderr."""
    from bot.app.log_format import configure_root_logging

    configure_root_logging()


class Abandoning:
    """The handlers' service for a job that will not run again: complete its check runs instead of evaluating."""

    def __init__(self, service: EvaluationService, reason: str) -> None:
        self._service = service
        self._reason = reason

    def evaluate(self, request: EvaluationRequest) -> None:
        abandon = getattr(self._service, "abandon", None)  # optional: `GitHubService.abandon`; fakes may lack it
        if abandon is not None:
            abandon(request, self._reason)

    def run_commands(self, event: CommentEvent) -> list[CommandOutcome]:
        return []  # a command that kept failing is not repeated; its comment got no 👍
