"""Constants and small fakes shared by the GitHub edge tests."""

from __future__ import annotations

import time

BASE = "a" * 40
HEAD = "b" * 40
REPO = "acme/gitops"


class RecordingSleep:
    """Stands in for time.sleep: remembers what it was asked to wait, waits not at all, and moves
    its own clock (``clock``, for RetryPolicy) on by as much, as a real sleep would."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = time.time()

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def finding(rule: str = "image-tag", line: int = 3, file: str = "apps/a.yaml", severity: str = "error",
            message: str = "", **extra: object):  # noqa: ANN201 - a Finding
    from bot.core.findings import Finding, ResourceRef, Severity

    return Finding(
        rule=rule,
        severity=Severity.parse(severity),
        message=message or f"{rule} problem at {file}:{line}",
        file=file,
        line=line,
        resource=ResourceRef("apps/v1", "Deployment", "shop", "web"),
        **extra,  # type: ignore[arg-type]
    )
