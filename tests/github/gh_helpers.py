"""Constants and small fakes shared by the GitHub edge tests."""

from __future__ import annotations

BASE = "a" * 40
HEAD = "b" * 40
REPO = "acme/gitops"


class RecordingSleep:
    """Stands in for time.sleep: remembers what it was asked to wait, waits not at all."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


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
