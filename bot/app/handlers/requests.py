"""Build `EvaluationRequest`s from payloads without importing the GitHub edge until a job runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.app.evaluation_service import EvaluationRequest as evaluation_request

if TYPE_CHECKING:
    from bot.github.api import PullInfo


def webhook_pull(number: int, pull: Mapping[str, Any]) -> PullInfo | None:
    """The delivery's pull request object as `bot.github.api.PullInfo` (None when incomplete: fetched later)."""
    from bot.github.api import pull_info_from_payload

    return pull_info_from_payload(number, pull)


__all__ = ["evaluation_request", "webhook_pull"]
