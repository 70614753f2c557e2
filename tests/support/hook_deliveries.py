"""GitHub's side of webhook delivery, for the stand-in: send signed events to the App and keep the delivery log.

Each attempt is recorded as GitHub's `hook-delivery-item` (newest first, cursor pages). A
redelivery resends the original body with the same guid (X-GitHub-Delivery) and records a new
attempt with ``redelivery: true``, as GitHub does.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from tests.support.gunicorn import post_webhook

# What GitHub records when it cannot get an answer (the App is down): the example of its description.
FAILED_TO_CONNECT = ("failed to connect", 502)


class HookDeliveryLog:
    """The App's webhook: where it points, every attempt made, and the bodies to redeliver."""

    def __init__(self) -> None:
        self.url = ""  # the App's base URL (its /webhook receives the events)
        self.secret = ""
        self.items: list[dict[str, Any]] = []  # hook-delivery-item, oldest first
        self._bodies: dict[str, tuple[str, dict[str, Any]]] = {}  # guid -> (event, payload)
        self._ids = itertools.count(90001)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def hook_to(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret

    def send(self, event: str, payload: dict[str, Any], *, record_as: tuple[str, int] | None = None) -> str:
        """Deliver one new event now; returns its guid. ``record_as`` (status, code) overrides what is
        recorded, e.g. ("timed out", 0) for an App that answered after GitHub stopped waiting."""
        guid = str(uuid.uuid4())
        with self._lock:
            self._bodies[guid] = (event, payload)
        self._attempt(guid, redelivery=False, record_as=record_as)
        return guid

    def plant(self, event: str, payload: dict[str, Any], *, status: tuple[str, int], delivered_at: datetime,
              guid: str | None = None) -> dict[str, Any]:
        """Record an attempt without sending anything (an old delivery, a page filler)."""
        guid = guid or str(uuid.uuid4())
        with self._lock:
            self._bodies.setdefault(guid, (event, payload))
            return self._record(guid, event, payload, status, delivered_at, redelivery=False, duration=0.01)

    def redeliver(self, delivery_id: int) -> bool:
        """Resend delivery ``delivery_id`` in the background (GitHub answers 202 first); False if unknown."""
        with self._lock:
            item = next((i for i in self.items if i["id"] == delivery_id), None)
        if item is None:
            return False
        thread = threading.Thread(target=self._attempt, args=(item["guid"],),
                                  kwargs={"redelivery": True, "record_as": None}, daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def page(self, per_page: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page, newest first, starting after ``cursor``; and the cursor of the next page, if any."""
        with self._lock:
            newest_first = sorted(self.items, key=lambda i: i["id"], reverse=True)
        if cursor:
            before = int(cursor.removeprefix("v1_"))
            newest_first = [i for i in newest_first if i["id"] < before]
        page = [dict(i) for i in newest_first[:per_page]]
        more = len(newest_first) > per_page
        return page, f"v1_{page[-1]['id']}" if more else None

    def attempts(self, guid: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(i) for i in self.items if i["guid"] == guid]

    def wait_idle(self, timeout: float = 20) -> None:
        """Wait for the redeliveries in flight (so a test can count them)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _attempt(self, guid: str, *, redelivery: bool, record_as: tuple[str, int] | None) -> None:
        event, payload = self._bodies[guid]
        started = time.monotonic()
        if not self.url:
            status = FAILED_TO_CONNECT
        else:
            try:
                code = post_webhook(self.url, event, payload, self.secret, guid).status_code
                status = ("OK", code) if 200 <= code < 300 else (f"Invalid HTTP Response: {code}", code)
            except requests.ConnectionError:
                status = FAILED_TO_CONNECT
        with self._lock:
            self._record(guid, event, payload, record_as or status, datetime.now(UTC), redelivery=redelivery,
                         duration=round(time.monotonic() - started, 3))

    def _record(self, guid: str, event: str, payload: dict[str, Any], status: tuple[str, int],
                delivered_at: datetime, *, redelivery: bool, duration: float) -> dict[str, Any]:
        action = payload.get("action")
        item = {
            "id": next(self._ids), "guid": guid, "delivered_at": delivered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "redelivery": redelivery, "duration": duration, "status": status[0], "status_code": status[1],
            "event": event, "action": action if isinstance(action, str) else None,
            "installation_id": (payload.get("installation") or {}).get("id"),
            "repository_id": (payload.get("repository") or {}).get("id"), "throttled_at": None,
        }
        self.items.append(item)
        return item
