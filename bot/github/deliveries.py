"""The App's webhook delivery log on GitHub: list recent deliveries, ask for one to be sent again."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from github import Auth

from bot.errors import GitHubError

log = logging.getLogger(__name__)

# https://docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook (App JWT, newest first,
# cursor pagination through the Link header; per_page at most 100).
LIST_PATH = "/app/hook/deliveries"
# https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook (202 Accepted).
REDELIVER_PATH = "/app/hook/deliveries/{delivery_id}/attempts"
MAX_PER_PAGE = 100
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class HookDelivery:
    """One attempt GitHub made to deliver an event (`hook-delivery-item`); redeliveries share the ``guid``."""

    id: int
    guid: str  # the X-GitHub-Delivery header the App saw (or would have seen)
    delivered_at: datetime
    status: str  # "OK" when the App answered 2xx; otherwise why not ("Invalid HTTP Response: 503", ...)
    status_code: int
    event: str
    action: str | None
    installation_id: int | None
    redelivery: bool

    @property
    def failed(self) -> bool:
        """GitHub's own rule: a failed delivery's ``status`` is not "OK" (or it answered 4xx/5xx)."""
        return self.status != "OK" or self.status_code >= 400

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> HookDelivery:
        """Parse one list item; a malformed one is a GitHubError (never guessed at)."""
        try:
            return cls(
                id=int(item["id"]),
                guid=str(item["guid"]),
                delivered_at=datetime.fromisoformat(str(item["delivered_at"]).replace("Z", "+00:00")),
                status=str(item["status"]),
                status_code=int(item["status_code"]),
                event=str(item["event"]),
                action=None if item.get("action") is None else str(item["action"]),
                installation_id=None if item.get("installation_id") is None
                else int(item["installation_id"]),
                redelivery=bool(item.get("redelivery", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GitHubError(f"GitHub listed a webhook delivery the bot cannot read: {exc!r}") from exc


class DeliveryRequestRefused(GitHubError):
    """GitHub answered 4xx/5xx; ``status`` tells a lasting refusal (4xx) from a passing failure (5xx)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AppDeliveries:
    """The two delivery-log calls, authenticated as the App (a JWT, never an installation token).

    ``calls`` counts the requests made, for the recovery's log line.
    """

    def __init__(self, api_url: str, app_id: int, private_key: str, session: requests.Session | None = None) -> None:
        self._api_url = api_url.rstrip("/")
        self._auth = Auth.AppAuth(app_id, private_key)
        self._session = session or requests.Session()
        self.calls = 0

    def recent(self, since: datetime, per_page: int = MAX_PER_PAGE, max_pages: int = 50) -> Iterator[HookDelivery]:
        """Deliveries newer than ``since``, newest first; stops paging at the first older one.

        ``max_pages`` bounds one listing (GitHub keeps three days of deliveries, which can be many pages).
        """
        url: str | None = f"{self._api_url}{LIST_PATH}"
        params: dict[str, str | int] | None = {"per_page": min(per_page, MAX_PER_PAGE)}
        for _ in range(max_pages):
            if url is None:
                return
            response = self._request("GET", url, params=params, what="list the App's webhook deliveries")
            items = response.json()
            if not isinstance(items, list):
                raise GitHubError("GitHub answered the webhook delivery list with something that is not a list")
            for item in items:
                delivery = HookDelivery.from_json(item)
                if delivery.delivered_at < since:
                    return
                yield delivery
            url = response.links.get("next", {}).get("url")  # carries per_page and the cursor
            params = None
        log.warning("webhook delivery listing stopped after %d pages; older deliveries are not looked at", max_pages)

    def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to send delivery ``delivery_id`` again (it answers 202 and sends it soon after)."""
        url = self._api_url + REDELIVER_PATH.format(delivery_id=delivery_id)
        self._request("POST", url, params=None, what=f"redeliver webhook delivery {delivery_id}")

    def close(self) -> None:
        self._session.close()

    def _request(self, method: str, url: str, *, params: dict[str, str | int] | None, what: str) -> requests.Response:
        self.calls += 1
        headers = {**HEADERS, "Authorization": f"Bearer {self._auth.token}"}  # a fresh JWT: they live minutes
        try:
            response = self._session.request(method, url, params=params, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise GitHubError(f"could not reach GitHub to {what}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            message = ""
            try:
                body = response.json()
                message = str(body.get("message", "")) if isinstance(body, dict) else ""
            except ValueError:
                pass
            raise DeliveryRequestRefused(response.status_code,
                                         f"GitHub refused to {what}: {response.status_code} {message}".rstrip())
        return response
