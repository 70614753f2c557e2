"""Build `bot.service.EvaluationRequest` without importing the GitHub edge until a job runs."""

from __future__ import annotations

from typing import Any


def evaluation_request(**fields: Any) -> Any:
    # Imported lazily: the web front must not pay for PyGithub and the core just to route a delivery.
    from bot.service import EvaluationRequest

    return EvaluationRequest(**fields)
