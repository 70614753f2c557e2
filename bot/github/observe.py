"""Listeners for every answer GitHub gives an installation client: metrics count them without the client knowing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from github.Requester import Requester

log = logging.getLogger(__name__)

# (installation id, HTTP status, response headers with lower-case names)
ResponseListener = Callable[[int, int, Mapping[str, Any]], None]
_listeners: list[ResponseListener] = []


def add_listener(listener: ResponseListener) -> None:
    """Call ``listener`` for every answer any installation client of this process receives (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def observe_responses(requester: Requester, installation_id: int) -> None:
    """Hook one PyGithub client: its requester reports each answer (retries and pages included).

    PyGithub calls ``DEBUG_ON_RESPONSE`` after every request, whatever API method made it; it has
    no other per-client hook. Redirects and 202 re-polls count once; requests that got no answer
    (connection errors) are not answers and are not counted here.
    """
    original = requester.DEBUG_ON_RESPONSE

    def on_response(status: int, headers: dict[str, str | int], data: str) -> None:
        original(status, headers, data)
        for listener in list(_listeners):
            try:
                listener(installation_id, status, headers)
            except Exception:  # noqa: BLE001 - counting must never fail a GitHub call
                log.exception("a GitHub response listener failed")

    requester.DEBUG_ON_RESPONSE = on_response  # type: ignore[method-assign,assignment]  # per-instance hook (above)
