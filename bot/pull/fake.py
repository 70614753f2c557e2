"""A `PullContext` of canned values and canned errors, for tests (like policy-bot's pulltest.Context)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.workspace import Workspace
from bot.pull.context import ChangedFile, PullComment


@dataclass(frozen=True)
class FakeComment:
    body: str
    author: str


@dataclass
class FakePullContext:
    head: dict[str, bytes | str] = field(default_factory=dict)
    base: dict[str, bytes | str] | None = None
    head_sha_value: str = "head"
    base_sha_value: str = "base"
    changed_files_error: Exception | None = None
    patches: dict[str, str] = field(default_factory=dict)  # path -> unified diff of a changed file
    number: int | None = None  # a pull request number: comments and facts are those of a PR
    facts: dict[str, object] | None = None
    pull_comments: list[FakeComment] = field(default_factory=list)

    def head_sha(self) -> str:
        return self.head_sha_value

    def base_sha(self) -> str | None:
        return self.base_sha_value if self.base is not None else None

    def changed_files(self) -> list[ChangedFile]:
        if self.changed_files_error:
            raise self.changed_files_error
        if self.base is None:
            return [ChangedFile(p, "added", patch=self.patches.get(p, "")) for p in sorted(self.head)]
        out = []
        for path in sorted(set(self.head) | set(self.base)):
            if path not in self.base:
                out.append(ChangedFile(path, "added", patch=self.patches.get(path, "")))
            elif path not in self.head:
                out.append(ChangedFile(path, "removed"))
            elif self.head[path] != self.base[path]:
                out.append(ChangedFile(path, "modified", patch=self.patches.get(path, "")))
        return out

    def workspace(self, sha: str) -> Workspace:
        files = self.head if sha == self.head_sha_value else (self.base or {})
        return Workspace.from_dict(files, label=sha)

    def pull_number(self) -> int | None:
        return self.number

    def pull_facts(self) -> dict[str, object] | None:
        return self.facts

    def comments(self) -> Sequence[PullComment]:
        return list(self.pull_comments)
