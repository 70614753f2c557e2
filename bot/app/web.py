"""The App's web front: verify, dedupe, queue and answer GitHub within milliseconds."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.exceptions import RequestEntityTooLarge

from bot.app.evaluation_service import EvaluationService, MeteredService, load_factory
from bot.app.handlers import DeliveryLog, dispatch, ignore_reason
from bot.app.handlers.shape import missing_fields
from bot.app.head_registry import HeadRegistry, head_registry_for
from bot.app.metrics import BotMetrics, watch_github
from bot.app.queue import JobQueue, make_queue
from bot.app.settings import AppSettings
from bot.app.supersede import note_delivery
from bot.core.jsonfields import str_at

if TYPE_CHECKING:  # imported when the first job runs (it starts child processes)
    from bot.app.queue.processes import JobProcessRunner

log = logging.getLogger("bot.app.web")
EXTENSION = "gitops_bot"
QUEUED_ANSWER = b'{"status":"queued"}\n'  # the answer to almost every delivery, encoded once


def signature_of(body: bytes, secret: str) -> str:
    """The value GitHub sends in X-Hub-Signature-256 for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, secret: str, header: str | None) -> bool:
    # Compare bytes: compare_digest rejects non-ASCII str, and the header is attacker-controlled.
    received = (header or "").encode("latin-1", "replace")
    return hmac.compare_digest(signature_of(body, secret).encode(), received)


class Runtime:
    """Per-app state: settings, queue, metrics, the lazily built service and the embedded workers.

    The embedded workers evaluate in child processes (`bot.app.queue.processes`), so a heavy, hung or
    crashing evaluation never stops this process from answering. Only a service object handed in
    by the caller (tests, embedding) runs in this process's threads: it cannot cross a process.
    """

    def __init__(self, settings: AppSettings, queue: JobQueue, service: EvaluationService | None) -> None:
        self.settings = settings
        self.queue = queue
        self.metrics = BotMetrics()
        self.metrics.watch_queue(queue)
        if service is not None:  # it calls GitHub in this process: count its answers here
            watch_github()
        self._service = service
        self._service_lock = threading.Lock()
        self._in_process = service is not None
        self._runner: JobProcessRunner | None = None
        self._heads: HeadRegistry | None = None

    def note_head(self, event: str, payload: dict[str, Any], dlog: DeliveryLog) -> None:
        """A newer head supersedes older queued and running work at once (best effort: workers check again)."""
        try:
            if self._heads is None:
                self._heads = head_registry_for(self.settings)
            note_delivery(self._heads, event, payload)
        except Exception as exc:  # noqa: BLE001 - the delivery is queued; its worker decides from the record
            dlog.warning("event=%s head not noted (its worker will decide): %s", event, exc)

    def service(self) -> EvaluationService:
        """Built on first use, in the worker: constructing the GitHub edge must not slow the web front."""
        with self._service_lock:
            if self._service is None:
                self._service = load_factory(self.settings.service_factory)(self.settings)
            service: EvaluationService = self._service
            return service

    def start_workers(self) -> None:
        """Start this process's queue workers (idempotent; safe to call after a fork)."""
        self.queue.start_workers(self.process_delivery if self._in_process else self.job_runner())

    def job_runner(self) -> JobProcessRunner:
        """The handler that runs each job in an evaluation process (one per worker thread)."""
        if self._runner is None:
            self._runner = self._make_runner()
        return self._runner

    def _make_runner(self) -> JobProcessRunner:
        from bot.app.queue.processes import JobProcessRunner

        return JobProcessRunner(
            self.settings, timeout_seconds=self.settings.job_timeout_seconds,
            on_outcome=self.metrics.evaluation, on_duration=self.metrics.job_finished,
        )

    def process_delivery(self, event: str, payload: dict[str, Any], delivery_id: str) -> None:
        started = time.monotonic()
        try:
            service = MeteredService(self.service(), self.metrics.evaluation)
            dispatch(event, payload, delivery_id, service=service, settings=self.settings)
        finally:
            self.metrics.time_job(event, started)


webhook = Blueprint("webhook", __name__)


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions[EXTENSION]
    return rt


@webhook.before_app_request
def ensure_workers() -> None:
    # Fallback for `gunicorn bot.app.web:create_app()` without our config file: start on the first request.
    runtime().start_workers()


@webhook.post("/webhook")
def receive_webhook() -> tuple[Response, int]:
    rt = runtime()
    event = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    dlog = DeliveryLog(log, {"delivery_id": delivery_id or "-"})
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    if not signature_valid(body, rt.settings.webhook_secret, request.headers.get("X-Hub-Signature-256")):
        rt.metrics.signature_failures.inc()
        rt.metrics.delivery(event, "invalid_signature")
        dlog.warning("event=%s rejected: missing or invalid X-Hub-Signature-256", event or "-")
        return jsonify(status="error", reason="invalid signature"), 401
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # signed does not mean sane: deep nesting too
        payload = None
    if not isinstance(payload, dict) or not event or not delivery_id:
        rt.metrics.delivery(event, "bad_request")
        reason = "body is not a JSON object" if not isinstance(payload, dict) else "missing GitHub headers"
        dlog.warning("event=%s rejected: %s", event or "-", reason)
        return jsonify(status="error", reason=reason), 400
    action = str_at(payload, "action")
    name = f"{event}.{action}" if action else event
    ignored = ignore_reason(event, payload, rt.settings)
    if ignored:
        rt.metrics.delivery(event, "ignored")
        dlog.info("event=%s ignored: %s", name, ignored)
        return jsonify(status="ignored", reason=ignored), 200
    missing = missing_fields(event, payload)
    if missing:  # its handler would fail on every retry: say so now instead
        rt.metrics.delivery(event, "bad_request")
        reason = f"payload lacks {', '.join(missing)}"
        dlog.warning("event=%s rejected: %s", name, reason)
        return jsonify(status="error", reason=reason), 400
    try:
        accepted = rt.queue.enqueue(delivery_id, event, payload, body=body)
    except Exception:
        rt.metrics.delivery(event, "error")
        dlog.exception("event=%s could not be queued", name)
        return jsonify(status="error", reason="queue unavailable"), 503
    if not accepted:
        rt.metrics.duplicates.inc()
        rt.metrics.delivery(event, "duplicate")
        dlog.info("event=%s duplicate delivery, already queued", name)
        return jsonify(status="duplicate"), 200
    rt.note_head(event, payload, dlog)
    rt.metrics.delivery(event, "queued")
    dlog.info("event=%s queued", name)
    return Response(QUEUED_ANSWER, mimetype="application/json"), 202


@webhook.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
    rt = runtime()
    rt.metrics.delivery(request.headers.get("X-GitHub-Event", ""), "too_large")
    DeliveryLog(log, {"delivery_id": request.headers.get("X-GitHub-Delivery", "-")}).warning(
        "rejected: body larger than %d bytes", rt.settings.max_body_bytes
    )
    return jsonify(status="error", reason=f"body larger than {rt.settings.max_body_bytes} bytes"), 413


@webhook.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify(status="ok", pid=os.getpid()), 200


@webhook.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = runtime()
    if rt.queue.ping():
        return jsonify(status="ready", queue=rt.queue.backend), 200
    return jsonify(
        status="unavailable", queue=rt.queue.backend, reason=f"{rt.queue.backend} queue unreachable"
    ), 503


@webhook.get("/metrics")
def metrics() -> Response:
    return Response(runtime().metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)


def create_app(
    settings: AppSettings | None = None, *, service: EvaluationService | None = None, queue: JobQueue | None = None
) -> Flask:
    """Flask app factory: ``gunicorn 'bot.app.web:create_app()'``. Fails fast on bad settings (ConfigError).

    ``service`` defaults to ``settings.service_factory`` (GITOPS_BOT_SERVICE_FACTORY), built lazily;
    ``queue`` to ``make_queue(settings)``.
    """
    settings = settings or AppSettings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions[EXTENSION] = Runtime(settings, queue or make_queue(settings), service)
    app.register_blueprint(webhook)
    return app


def start_workers(app: Flask) -> None:
    """Start the embedded queue workers of ``app`` in this process (gunicorn post_worker_init hook).

    In the embedded mode the missed-delivery recovery runs here too (in the distributed mode the RQ
    workers run it): every gunicorn worker has its thread, one per interval wins the run lease.
    """
    rt = app.extensions[EXTENSION]
    rt.start_workers()
    if rt.settings.queue_backend == "sqlite":
        from bot.app.redelivery import start_recovery

        start_recovery(rt.settings, rt.queue.received)
