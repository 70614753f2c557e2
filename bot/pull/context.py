"""The questions the core may ask about a change, in the manner of policy-bot's ``pull.Context``.

Implementations: `bot.github.pull_context` (the App, over the REST API), `bot.pull.local`
(the CLI, over git) and `bot.pull.fake` (tests). All calls on one context must
return the same value: implementations load lazily and cache per field.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class PullComment(Protocol):
    """A comment on the pull request: who wrote it and its text (`bot.github.api.Comment` fits)."""

    @property
    def body(self) -> str: ...

    @property
    def author(self) -> str: ...


class PullRequestContext(PullContext, Protocol):
    """A `PullContext` that may be a pull request: what the App asks besides the trees.

    Unlike the trees, `comments` is read anew on every call: the bot writes comments
    (approvals) between two evaluations of one delivery.
    """

    def pull_number(self) -> int | None:
        """The pull request judged; None for a merge group or a pushed head without one."""

    def pull_facts(self) -> dict[str, object] | None:
        """What change-aware policies see as ``input.pull_request``; None without a pull request."""

    def comments(self) -> Sequence[PullComment]:
        """The comments where approvals are recorded (a merge group: its queued PR's); [] when none."""
