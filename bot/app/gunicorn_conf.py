"""gunicorn settings for the App: ``gunicorn 'bot.app.web:create_app()' -c python:bot.app.gunicorn_conf``.

The embedded queue's worker threads must start inside each worker process
(threads do not survive fork), as soon as it has loaded the app: queued
deliveries from before a restart are then processed without waiting for a request.
Each thread evaluates in its own child process (bot.app.queue.processes), so this
process only verifies, queues and answers; on exit the children are stopped.

Metrics: every worker and evaluation process writes to one PROMETHEUS_MULTIPROC_DIR
(the operator's, emptied at start, or a private one made here and removed at exit),
so any worker's /metrics shows the whole server (`bot.app.metrics_store`).
"""

import os
from pathlib import Path
from typing import Any

from gunicorn.glogging import CONFIG_DEFAULTS

from bot.app.log_format import log_format

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
accesslog = "-"
control_socket_disable = True  # gunicorn >= 25: several instances on one host must not share ~/.gunicorn
preload_app = False  # each worker builds its own app (and queue connections) after the fork

# One stream for gunicorn's and the bot's log lines (gunicorn's defaults print its own lines twice
# once a dict config is given, because its loggers also propagate to root).
# Every handler masks credentials (tokens, keys, "password=..."): nothing secret reaches the log.
# GITOPS_BOT_LOG_FORMAT=json: every line, gunicorn's own included, is one JSON object (bot.app.log_format).
_FORMATTER = "json" if log_format() == "json" else "generic"
logconfig_dict = {
    **CONFIG_DEFAULTS,
    "root": {"level": os.environ.get("GITOPS_BOT_LOG_LEVEL", "INFO"), "handlers": ["error_console"]},
    "loggers": {name: {**config, "propagate": False} for name, config in CONFIG_DEFAULTS["loggers"].items()},
    "filters": {"mask_secrets": {"()": "bot.app.log_masking.MaskSecretsFilter"}},
    "formatters": {**CONFIG_DEFAULTS["formatters"], "json": {"()": "bot.app.log_format.JsonFormatter"}},
    "handlers": {name: {**config, "filters": ["mask_secrets"], "formatter": _FORMATTER}
                 for name, config in CONFIG_DEFAULTS["handlers"].items()},
}


_METRICS_DIR: list[Path] = []  # the private directory made by on_starting, removed by on_exit


def on_starting(server: Any) -> None:
    # Before any worker exists (and before anything imports prometheus_client): they all inherit it.
    from bot.app.metrics_store import prepare_shared_directory

    path, private = prepare_shared_directory()
    _METRICS_DIR[:] = [path] if private else []
    server.log.info("metrics of every worker in %s", path)


def child_exit(server: Any, worker: Any) -> None:
    # In the master, once a worker is gone: drop its live gauges, fold its counts into the archive.
    from bot.app.metrics_store import directory, forget_process

    path = directory()
    if path is not None:
        forget_process(worker.pid, path)


def on_exit(server: Any) -> None:
    from bot.app.metrics_store import remove_directory

    for path in _METRICS_DIR:
        remove_directory(path)


def post_worker_init(worker: Any) -> None:
    from bot.app.web import start_workers

    # Evaluation runs in the queue's child processes, which warm themselves up (bot.app.queue.processes).
    start_workers(worker.wsgi)


def worker_exit(server: Any, worker: Any) -> None:
    # Runs in the exiting worker: give running jobs part of the graceful timeout, then hand them back.
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("gitops_bot")
    if runtime is not None:
        runtime.queue.stop(timeout=max(server.cfg.graceful_timeout / 2, 0.5))
