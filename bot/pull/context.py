"""The questions the core may ask about a change, in the manner of policy-bot's ``pull.Context``.

Implementations: `bot.github.pull_context` (the App, over the REST API), `bot.pull.local`
(the CLI, over git) and `bot.pull.fake` (tests). All calls on one context must
return the same value: implementations load lazily and cache per field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.workspace import Workspace


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str  # "added" | "modified" | "removed" | "renamed"
    previous_path: str = ""  # for renames
    patch: str = ""  # unified diff hunks, when known (used to keep review comments inside the diff)


class PullContext(Protocol):
    def head_sha(self) -> str:
        """The commit being judged."""

    def base_sha(self) -> str | None:
        """The commit the change is judged against; None for a whole-tree check."""

    def changed_files(self) -> list[ChangedFile]:
        """Files that differ between base and head (all files of head when there is no base)."""

    def workspace(self, sha: str) -> Workspace:
        """A read-only, lazily read view of the tree at ``sha``."""
