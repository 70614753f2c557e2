"""Webhook event handlers: one module per event, all registered on one router.

`ignore_reason` is asked by the web front before queueing (cheap, payload
only); `dispatch` runs in a queue worker and calls the handler.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

from bot.app.evaluation_service import EvaluationService
from bot.app.handlers import check_run, check_suite, installation, issue_comment, merge_group, pull_request  # noqa: F401
from bot.app.handlers.routing import HandlerContext, Route, router
from bot.app.job_log import logged_job
from bot.app.settings import AppSettings

__all__ = ["DeliveryLog", "HandlerContext", "dispatch", "ignore_reason", "route"]


class DeliveryLog(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every line with the delivery id (and sets it as a field of JSON lines), to follow one delivery."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return f"[{kwargs['extra'].get('delivery_id', '-')}] {msg}", kwargs


def route(event: str, action: str | None) -> Route | None:
    return router.route(event, action)


def ignore_reason(event: str, payload: Mapping[str, Any], settings: AppSettings) -> str | None:
    """Why this delivery needs no work (None: queue it)."""
    action = payload.get("action")
    found = route(event, action if isinstance(action, str) else None)
    if found is None:
        return f"no handler for {event}" + (f".{action}" if action else "")
    sender = payload.get("sender") or {}
    if settings.bot_login and sender.get("type") == "Bot" and sender.get("login") == settings.bot_login:
        return "event caused by this App"
    return found.screen(payload, settings) if found.screen else None


def dispatch(
    event: str, payload: Mapping[str, Any], delivery_id: str, *, service: EvaluationService, settings: AppSettings
) -> str:
    """Run the handler of one delivery; returns "handled" or "ignored: <reason>". Handler errors propagate."""
    log = DeliveryLog(logging.getLogger("bot.app.handlers"), {"delivery_id": delivery_id})
    reason = ignore_reason(event, payload, settings)
    if reason:
        log.info("ignored %s: %s", event, reason)
        return f"ignored: {reason}"
    found = route(event, payload.get("action"))
    assert found is not None  # ignore_reason returned None, so a route exists
    with logged_job(event, payload, delivery_id):  # the job's one summary line
        found.handler(
            payload, HandlerContext(settings=settings, service=service, log=log, delivery_id=delivery_id)
        )
    return "handled"
