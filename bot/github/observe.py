"""Listeners for every answer GitHub gives an installation client: metrics count them without the client knowing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

# (installation id, HTTP status, response headers with lower-case names)
ResponseListener = Callable[[int, int, Mapping[str, Any]], None]
_listeners: list[ResponseListener] = []


def add_listener(listener: ResponseListener) -> None:
    """Call ``listener`` for every answer any installation client of this process receives (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_listener(listener: ResponseListener) -> None:
    """Stop calling ``listener`` (tests that listen for a while)."""
    if listener in _listeners:
        _listeners.remove(listener)


def report(installation_id: int, status: int, headers: Mapping[str, str]) -> None:
    """One answer as it came over the wire (`bot.github.transport` calls this for every request it sends).

    The transport sees what PyGithub does not: a ``304`` before it is replayed as the kept ``200``,
    every retry, page, redirect hop and GraphQL query. Requests that got no answer (connection
    errors) are not answers and are not reported.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    for listener in list(_listeners):
        try:
            listener(installation_id, status, lowered)
        except Exception:  # noqa: BLE001 - counting must never fail a GitHub call
            log.exception("a GitHub response listener failed")
