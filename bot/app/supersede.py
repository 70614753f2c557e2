"""Which evaluation of a pull request may publish: the newest head wins, older work stops before it writes.

The web front notes each pull_request delivery's head (`note_delivery`), so queued
work for an older head is dropped when a worker reaches it; every evaluation
takes a ticket when it starts (`start`) and checks it under the pull request's
publish lock before each write (`Publication.guard`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.app.head_registry import HeadClaim, HeadRegistry, Refusal, Ticket

if TYPE_CHECKING:
    from bot.app.evaluation_service import EvaluationRequest
    from bot.github.api import RepoApi

log = logging.getLogger(__name__)

SUPERSEDED_TITLE = "Superseded"


def pull_key(repo_full_name: str, pull_number: int | None, head_sha: str) -> str:
    """One record per pull request; a change without one (merge group, bare check suite) keys on its commit."""
    return f"{repo_full_name}#{pull_number}" if pull_number is not None else f"{repo_full_name}@{head_sha}"


def stamp_of(text: object) -> float | None:
    """GitHub's ``updated_at`` (ISO 8601) as seconds; None when absent or not a timestamp."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def claim_of(request: EvaluationRequest) -> HeadClaim:
    return HeadClaim(pull_key(request.repo_full_name, request.pull_number, request.head_sha), request.head_sha,
                     stamp_of(request.updated_at), request.before_sha)


def note_delivery(registry: HeadRegistry, event: str, payload: Mapping[str, Any]) -> None:
    """A pull_request delivery just queued: its head supersedes older queued and running work of that PR now."""
    pull, repo = payload.get("pull_request"), payload.get("repository")
    if event != "pull_request" or not isinstance(pull, Mapping) or not isinstance(repo, Mapping):
        return
    head, number, name = pull.get("head"), payload.get("number"), repo.get("full_name")
    sha = head.get("sha") if isinstance(head, Mapping) else None
    before = payload.get("before")
    if not (isinstance(sha, str) and isinstance(name, str) and isinstance(number, int)):
        return  # the shape check refused it already; nothing to note
    registry.note(HeadClaim(pull_key(name, number, sha), sha, stamp_of(pull.get("updated_at")),
                            before if isinstance(before, str) else ""))


def start(registry: HeadRegistry, api: RepoApi, request: EvaluationRequest) -> Ticket | Refusal:
    """A ticket to publish, or who superseded the request. When the record cannot tell, GitHub decides."""
    claim = claim_of(request)
    got = registry.begin(claim)
    if isinstance(got, Refusal) and got.unsure and request.pull_number is not None:
        head = api.get_pull(request.pull_number).head_sha
        if head == request.head_sha:
            return registry.begin(claim, force=True)
        return Refusal(head, unsure=False)
    return got


def superseded_text(sha: str, latest: str) -> str:
    if latest == sha:
        return f"A newer evaluation of {sha} took over; it publishes the verdict."
    return f"This evaluation of {sha} was superseded by {latest}, the pull request's newer head; nothing was published."


class Publication:
    """One evaluation's right to write: each publish step runs under `guard`, which says who took over, if anyone."""

    def __init__(self, registry: HeadRegistry, ticket: Ticket, tag: str) -> None:
        self.registry = registry
        self.ticket = ticket
        self.tag = tag
        self.superseded_by = ""  # set once a guard found a newer head or evaluation

    @contextmanager
    def guard(self, step: str) -> Iterator[bool]:
        """Yields True when ``step`` may publish (the pull request's lock is held meanwhile)."""
        if self.superseded_by:
            yield False
            return
        with self.registry.publishing(self.ticket) as newer:
            if newer is not None:
                self.superseded_by = newer
                log.info("%s %s skipped: superseded by %s", self.tag, step,
                         "a newer evaluation" if newer == self.ticket.sha else newer)
                yield False
            else:
                yield True
