"""One log line per finished job: delivery, event, installation, repo, PR, sha, duration, outcome, GitHub calls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests

log = logging.getLogger("bot.app.jobs")

_counting = threading.local()  # the GitHub call counter of the job running in this thread, if any
_install_lock = threading.Lock()


class _CallCounter:
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url.rstrip("/") + "/"
        self.calls = 0


def _install_counting() -> None:
    """Count every request a job thread sends to GitHub, wherever it is made.

    PyGithub opens its own ``requests`` sessions and offers no request hook, so the count is taken
    where all of them send (`requests.Session.send`); requests elsewhere, or to other hosts, pass
    through untouched. Installed once per process.
    """
    with _install_lock:
        if getattr(requests.Session.send, "_gitops_bot_counted", False):
            return
        original = requests.Session.send

        def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            counter = getattr(_counting, "counter", None)
            if counter is not None and (request.url or "").startswith(counter.api_url):
                counter.calls += 1
            return original(self, request, **kwargs)

        send._gitops_bot_counted = True  # type: ignore[attr-defined]  # marks the wrapper: install once
        requests.Session.send = send  # type: ignore[method-assign]  # the only hook PyGithub leaves


def delivery_fields(event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a delivery is about, from its payload: the fields of the job line (absent ones left out)."""
    def dig(*path: str) -> Any:
        node: Any = payload
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        return node if isinstance(node, (str, int)) and not isinstance(node, bool) else None

    action = dig("action")
    fields = {
        "event": f"{event}.{action}" if action else event,
        "installation": dig("installation", "id"),
        "repo": dig("repository", "full_name"),
        "pr": dig("pull_request", "number") or dig("issue", "number") or dig("number"),
        "sha": dig("pull_request", "head", "sha") or dig("check_suite", "head_sha") or dig("check_run", "head_sha")
        or dig("merge_group", "head_sha"),
    }
    return {k: v for k, v in fields.items() if v is not None}


@contextmanager
def logged_job(event: str, payload: Mapping[str, Any], delivery_id: str, api_url: str) -> Iterator[None]:
    """Run one job's handler and log its line afterwards, however it ended (an error is re-raised)."""
    _install_counting()
    counter = _CallCounter(api_url)
    outer = getattr(_counting, "counter", None)
    _counting.counter = counter
    started = time.monotonic()
    fields: dict[str, Any] = {"delivery_id": delivery_id, **delivery_fields(event, payload)}
    try:
        yield
        fields["outcome"] = "handled"
    except BaseException as exc:
        fields["outcome"] = "failed"
        fields["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _counting.counter = outer
        fields["duration_ms"] = round((time.monotonic() - started) * 1000)
        fields["github_calls"] = counter.calls
        where = fields.get("repo", "-") + (f"#{fields['pr']}" if "pr" in fields else "")
        log.info("[%s] job %s %s%s %s in %d ms, %d GitHub calls%s", delivery_id, fields["event"], where,
                 f" @{str(fields['sha'])[:12]}" if "sha" in fields else "", fields["outcome"],
                 fields["duration_ms"], counter.calls, f": {fields['error']}" if "error" in fields else "",
                 extra=fields)
