"""Build `bot.app.service.EvaluationRequest` without importing the GitHub edge until a job runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # The type checker sees the dataclass itself, so every handler's field names and types are checked.
    from bot.app.service import EvaluationRequest as evaluation_request
    from bot.github.api import PullInfo
else:

    def evaluation_request(**fields: Any) -> Any:
        # Imported lazily: the web front must not pay for PyGithub and the core just to route a delivery.
        from bot.app.service import EvaluationRequest

        return EvaluationRequest(**fields)


def webhook_pull(number: int, pull: Mapping[str, Any]) -> PullInfo | None:
    """The delivery's pull request object as `bot.github.api.PullInfo` (None when incomplete: fetched later)."""
    from bot.github.api import pull_info_from_payload

    return pull_info_from_payload(number, pull)


__all__ = ["evaluation_request", "webhook_pull"]
