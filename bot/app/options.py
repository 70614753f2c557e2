"""The repository's knobs for the App's outputs (`github:` and `commands.autoPlan` of `.gitops-bot.yaml`).

The core validates the whole file; only the App reads these sections, so they are not part of
the core's `RepoConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AppOptions:
    neutral_on_warnings: bool = False
    fail_on_warnings: bool = False
    sticky_comment: bool = True
    review_comments: bool = True
    auto_plan: bool = False

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> AppOptions:
        """From a validated config's ``raw`` mapping; defaults when the file is missing or invalid."""
        github = (raw or {}).get("github", {})
        commands = (raw or {}).get("commands", {})
        return cls(
            neutral_on_warnings=bool(github.get("neutralOnWarnings", False)),
            fail_on_warnings=bool(github.get("failOnWarnings", False)),
            sticky_comment=bool(github.get("stickyComment", True)),
            review_comments=bool(github.get("reviewComments", True)),
            auto_plan=bool(commands.get("autoPlan", False)),
        )
