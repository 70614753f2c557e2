"""One log line per finished job: delivery, event, installation, repo, PR, sha, duration, outcome, GitHub calls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bot.github.observe import add_listener

log = logging.getLogger("bot.app.jobs")

_counting = threading.local()  # the GitHub call counter of the job running in this thread, if any


class _CallCounter:
    calls = 0


def _count_answer(installation_id: int, status: int, headers: Mapping[str, Any]) -> None:
    """A GitHub answer to an installation client (`bot.github.observe`): the job of this thread made one call."""
    counter = getattr(_counting, "counter", None)
    if counter is not None:
        counter.calls += 1


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
def logged_job(event: str, payload: Mapping[str, Any], delivery_id: str) -> Iterator[None]:
    """Run one job's handler and log its line afterwards, however it ended (an error is re-raised).

    ``github_calls`` counts the answers GitHub gave the job's installation clients in this thread,
    retries and pages included (the App's own token mints are not the job's calls).
    """
    add_listener(_count_answer)
    counter = _CallCounter()
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
