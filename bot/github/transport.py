"""The HTTP layer under PyGithub: each request of an installation passes the rate limiter, the write turn and the ETag cache.

PyGithub has no hook on its requests, but it builds its HTTP connection from a class held by
its ``Requester``; `govern` swaps in one whose ``requests`` session sends through
`GovernedAdapter`. Everything PyGithub does (pagination included) then goes through here, and
every answer is reported to `bot.github.observe` as it came (a 304 as a 304).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from github import Github
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from bot.github.conditional import KEPT_HEADERS, CachedAnswer, ConditionalCache, worth_keeping
from bot.github.observe import report
from bot.github.rate_limit import WRITE_METHODS, RateLimiter, resource_of

log = logging.getLogger(__name__)

# Writes that notify people (comments, reviews): GitHub asks for a second between them.
_CREATES_CONTENT = re.compile(r"/(comments|reviews|replies|issues|pulls)$")
_CONNECTION_CLASS = "_Requester__connectionClass"  # PyGithub's per-Requester connection factory
_GRAPHQL_STRING = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"')
_GRAPHQL_MUTATION = re.compile(r"\bmutation\b")

Unauthorized = Callable[[int, str], None]  # (installation id, the refused token)


class GovernedAdapter(HTTPAdapter):
    """One installation's requests: wait for the limiter, take the write turn, ask conditionally, learn."""

    def __init__(self, installation_id: int, limiter: RateLimiter, etags: ConditionalCache | None,
                 scope: str, on_unauthorized: Unauthorized, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.installation_id = installation_id
        self._limiter = limiter
        self._etags = etags
        self._scope = scope
        self._on_unauthorized = on_unauthorized

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        method = (request.method or "GET").upper()
        path = urlsplit(request.url or "").path
        resource = resource_of(path)
        self._limiter.before_request(self.installation_id, resource)
        if writes(method, resource, request.body):
            with self._limiter.write_turn(self.installation_id, creates_content=method == "POST"
                                          and bool(_CREATES_CONTENT.search(path))):
                response = super().send(request, *args, **kwargs)
            self._learn(response, resource)
            return response
        key, cached = self._conditional(request, method)
        response = super().send(request, *args, **kwargs)
        self._learn(response, resource)
        if key is None or self._etags is None:
            return response
        if response.status_code == 304 and cached is not None:
            self._etags.not_modified += 1
            return _replay(cached, response)
        etag = response.headers.get("ETag")
        if response.status_code == 200 and etag and not kwargs.get("stream"):
            kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
            self._etags.put(key, CachedAnswer(etag, response.content, kept))
        return response

    def _conditional(self, request: PreparedRequest, method: str) -> tuple[str | None, CachedAnswer | None]:
        if self._etags is None or not worth_keeping(method, request.url or "") or "If-None-Match" in request.headers:
            return None, None
        key = ConditionalCache.key(self._scope, self.installation_id, request.headers.get("Accept", ""),
                                   request.url or "")
        cached = self._etags.get(key)
        if cached is not None:
            request.headers["If-None-Match"] = cached.etag
        return key, cached

    def _learn(self, response: Response, resource: str) -> None:
        status = response.status_code
        message = response.text[:1000] if status in (403, 429) else ""
        self._limiter.after_response(self.installation_id, status, response.headers, message, resource)
        report(self.installation_id, status, response.headers)
        if status == 401:
            refused = (response.request.headers.get("Authorization") or "").partition(" ")[2]
            self._on_unauthorized(self.installation_id, refused)


def writes(method: str, resource: str, body: bytes | str | None) -> bool:
    """Whether a request takes the installation's write turn: REST writes, and GraphQL only for a mutation.

    A GraphQL query is a POST but reads (batched blob reads must not queue behind check-run and
    comment writes); a body that cannot be read as a GraphQL request counts as a write.
    """
    if method not in WRITE_METHODS:
        return False
    if resource != "graphql" or method != "POST":
        return True
    try:
        query = json.loads(body or b"{}").get("query")
    except (ValueError, AttributeError):
        return True
    if not isinstance(query, str):
        return True
    return bool(_GRAPHQL_MUTATION.search(re.sub(r"#[^\n]*", "", _GRAPHQL_STRING.sub('""', query))))


def _replay(answer: CachedAnswer, not_modified: Response) -> Response:
    """The remembered 200 for a 304, with the fresh answer's headers (rate-limit figures) over the kept ones."""
    replay = Response()
    replay.status_code = 200
    replay.reason = "OK"
    replay._content = answer.body
    headers = CaseInsensitiveDict({k: v for k, v in not_modified.headers.items() if k.lower() != "content-length"})
    headers.update(answer.headers)
    headers["ETag"] = answer.etag
    replay.headers = headers
    replay.encoding = "utf-8"
    replay.url = not_modified.url
    replay.request = not_modified.request
    replay.connection = not_modified.connection
    replay.elapsed = not_modified.elapsed
    return replay


def govern(gh: Github, make_adapter: Callable[[dict[str, Any]], GovernedAdapter]) -> None:
    """Route every request of ``gh`` through an adapter from ``make_adapter`` (given HTTPAdapter's arguments)."""
    requester = gh.requester
    base = getattr(requester, _CONNECTION_CLASS, None)
    if base is None:  # no silent fallback: unpaced requests could exhaust a shared installation limit
        raise RuntimeError(f"this PyGithub has no Requester.{_CONNECTION_CLASS}: "
                           "the rate limiter cannot be installed; pin PyGithub to a tested version")

    def connection(*args: Any, **kwargs: Any) -> Any:
        cnx = base(*args, **kwargs)
        adapter = make_adapter({"max_retries": cnx.retry, "pool_connections": cnx.pool_size,
                                "pool_maxsize": cnx.pool_size})
        cnx.session.mount("http://", adapter)
        cnx.session.mount("https://", adapter)
        cnx.adapter = adapter
        return cnx

    setattr(requester, _CONNECTION_CLASS, connection)
