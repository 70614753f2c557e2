"""`PullContext` over a local git checkout: what `gitops-bot check --base REF` asks."""

from __future__ import annotations

import subprocess
from functools import cached_property
from pathlib import Path

from bot.core.workspace import Workspace
from bot.errors import ConfigError
from bot.pull.context import ChangedFile

WORKTREE = "WORKTREE"
_STATUS = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "added", "T": "modified"}


def _git(root: Path, *args: str) -> bytes:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, timeout=120
        ).stdout
    except FileNotFoundError:
        raise ConfigError("--base needs git, which is not installed") from None
    except subprocess.CalledProcessError as e:
        message = e.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"git {' '.join(args[:2])}: {message[-1] if message else 'failed'}") from None


def git_root(path: str | Path) -> Path:
    start = Path(path)
    start = start if start.is_dir() else start.parent
    return Path(_git(start, "rev-parse", "--show-toplevel").decode().strip())


class LocalPullContext:
    """The working tree (head) against a git ref (base); created per run, cached per field."""

    def __init__(self, root: str | Path, base_ref: str):
        self.root = Path(root)
        self.base_ref = base_ref

    def head_sha(self) -> str:
        return WORKTREE

    @cached_property
    def _base_sha(self) -> str:
        return _git(self.root, "rev-parse", "--verify", f"{self.base_ref}^{{commit}}").decode().strip()

    def base_sha(self) -> str | None:
        return self._base_sha

    @cached_property
    def _changed(self) -> list[ChangedFile]:
        out: list[ChangedFile] = []
        fields = _git(self.root, "diff", "--name-status", "-z", "-M", self._base_sha, "--").split(b"\0")
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i].decode()[0]
            if status in "RC":
                old, new = fields[i + 1].decode(), fields[i + 2].decode()
                out.append(ChangedFile(new, _STATUS[status], previous_path=old))
                i += 3
            else:
                out.append(ChangedFile(fields[i + 1].decode(), _STATUS.get(status, "modified")))
                i += 2
        untracked = _git(self.root, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0")
        out.extend(ChangedFile(p.decode(), "added") for p in untracked if p)
        return sorted(out, key=lambda c: c.path)

    def changed_files(self) -> list[ChangedFile]:
        return list(self._changed)

    def workspace(self, sha: str) -> Workspace:
        if sha == WORKTREE:
            return Workspace.from_directory(self.root, label="working tree")
        files: list[str] = []
        links: list[str] = []
        for record in _git(self.root, "ls-tree", "-r", "-z", sha).split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind = meta.split(b" ")[:2]
            if mode == b"120000":
                links.append(name.decode())  # the blob is the target path: reported, never followed
            elif kind == b"blob":
                files.append(name.decode())  # submodules (commit entries) have no content here

        def read(path: str) -> bytes | None:
            try:
                return _git(self.root, "cat-file", "blob", f"{sha}:{path}")
            except ConfigError:
                return None

        return Workspace(files, read, label=sha[:12], symlinks=links)
