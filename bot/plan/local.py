"""A local `PullContext` between two git refs, for `gitops-bot plan --base REF --head REF`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from bot.pull.context import ChangedFile
from bot.pull.local import LocalPullContext, _git

_STATUS = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "added", "T": "modified"}


class RefsPullContext(LocalPullContext):
    """Like `LocalPullContext`, but head is a commit instead of the working tree."""

    def __init__(self, root: str | Path, base_ref: str, head_ref: str):
        super().__init__(root, base_ref)
        self.head_ref = head_ref

    @cached_property
    def _head_sha(self) -> str:
        return _git(self.root, "rev-parse", "--verify", f"{self.head_ref}^{{commit}}").decode().strip()

    def head_sha(self) -> str:
        return self._head_sha

    @cached_property
    def _changed(self) -> list[ChangedFile]:
        fields = _git(self.root, "diff", "--name-status", "-z", "-M", self._base_sha, self._head_sha, "--")
        parts = fields.split(b"\0")
        out: list[ChangedFile] = []
        i = 0
        while i < len(parts) and parts[i]:
            status = parts[i].decode()[0]
            if status in "RC":
                out.append(ChangedFile(parts[i + 2].decode(), _STATUS[status], previous_path=parts[i + 1].decode()))
                i += 3
            else:
                out.append(ChangedFile(parts[i + 1].decode(), _STATUS.get(status, "modified")))
                i += 2
        return sorted(out, key=lambda c: c.path)
