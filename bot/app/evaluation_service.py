"""The seam between the handlers and the GitHub edge: the `EvaluationService` protocol, its metering, its loader.

Handlers, the web front, the standalone worker and the evaluation processes all
talk to the service through this protocol only (a test hands in a recording fake);
`bot.app.service.GitHubService` is the real one, named by GITOPS_BOT_SERVICE_FACTORY.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only types: routing a delivery must not import the GitHub edge
    from bot.app.settings import AppSettings
    from bot.commands.events import CommentEvent
    from bot.github.api import PullInfo


@dataclass(frozen=True)
class EvaluationRequest:
    """One evaluation to run, as the handlers decided it from a delivery."""

    installation_id: int
    repo_full_name: str  # "owner/name" of the base repository
    head_sha: str
    base_sha: str | None  # None: no base (e.g. check_suite without a PR) -> whole-tree check of head
    pull_number: int | None  # None for merge_group and check_suite without PR
    trigger: str  # "pull_request.opened", "check_run.rerequested", "merge_group.checks_requested", ...
    delivery_id: str = ""
    head_repo_full_name: str = ""  # fork PRs: head commits are readable through the base repo too
    # merge_group: the queued PR whose approvals (its comments) also apply to the merge group's findings.
    approvals_from: int | None = None
    # pull_request deliveries: the webhook's pull request object, complete, so it is not fetched again.
    pull: PullInfo | None = None
    # pull_request deliveries: when GitHub changed the PR, and the head a push replaced (who supersedes whom).
    updated_at: str = ""
    before_sha: str = ""


class Outcome(Protocol):
    """What the service says of one evaluation: the check run's conclusion."""

    @property
    def conclusion(self) -> str: ...


class CommandOutcome(Protocol):
    @property
    def ok(self) -> bool: ...


class EvaluationService(Protocol):
    """Evaluate one change and publish its verdict; run the commands of one PR comment."""

    def evaluate(self, request: EvaluationRequest) -> Outcome | None: ...

    def run_commands(self, event: CommentEvent) -> Sequence[CommandOutcome]: ...


class ServiceFactory(Protocol):
    """What GITOPS_BOT_SERVICE_FACTORY names: builds the service of one process from the App's settings."""

    def __call__(self, settings: AppSettings) -> EvaluationService: ...


def load_factory(spec: str) -> ServiceFactory:
    """Import ``"package.module:callable"`` (by default ``bot.app.service:GitHubService``)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:callable', got {spec!r}")
    factory: ServiceFactory = getattr(importlib.import_module(module_name), attribute)  # named by a string
    return factory




class MeteredService:
    """Counts evaluation outcomes (the check run's conclusion, or "error") around the real service."""

    CONCLUSIONS = frozenset({"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required",
                             "superseded"})

    def __init__(self, service: EvaluationService, record: Callable[[str], None]) -> None:
        self._service = service
        self._record = record  # this process's counter, or (in an evaluation process) the list sent back

    def evaluate(self, request: EvaluationRequest) -> Outcome | None:
        try:
            outcome = self._service.evaluate(request)
        except Exception:
            self._record("error")
            raise
        conclusion = getattr(outcome, "conclusion", None)
        if getattr(outcome, "superseded_by", ""):  # a newer head took over (bot.app.supersede)
            conclusion = "superseded"
        self._record(conclusion if conclusion in self.CONCLUSIONS else "other")
        return outcome

    def run_commands(self, event: CommentEvent) -> Sequence[CommandOutcome]:
        """PR comment commands (`/gitops ...`); not counted as evaluations here."""
        return self._service.run_commands(event)
