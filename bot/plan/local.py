"""A local `PullContext` between two git refs, for `gitops-bot plan --base REF --head REF`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from bot.pull.context import ChangedFile
from bot.pull.local import LocalPullContext, changed_between, resolve_commit


class RefsPullContext(LocalPullContext):
    """Like `LocalPullContext`, but head is a commit instead of the working tree."""

    def __init__(self, root: str | Path, base_ref: str, head_ref: str):
        super().__init__(root, base_ref)
        self.head_ref = head_ref

    @cached_property
    def _head_sha(self) -> str:
        return resolve_commit(self.root, self.head_ref)

    def head_sha(self) -> str:
        return self._head_sha

    @cached_property
    def _changed(self) -> list[ChangedFile]:
        return changed_between(self.root, self._base_sha, self._head_sha)
