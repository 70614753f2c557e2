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


def run_git(root: Path, *args: str) -> bytes:
    """stdout of ``git -C root args``; a missing git or a failing command is a ConfigError naming it."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, timeout=120
        ).stdout
    except FileNotFoundError:
        raise ConfigError("--base needs git, which is not installed") from None
    except subprocess.CalledProcessError as e:
        message = e.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"git {' '.join(args[:2])}: {message[-1] if message else 'failed'}") from None


def resolve_commit(root: Path, ref: str) -> str:
    """The commit sha ``ref`` names in the repository at ``root``."""
    return run_git(root, "rev-parse", "--verify", f"{ref}^{{commit}}").decode().strip()


def changed_between(root: Path, base_sha: str, head_sha: str | None = None) -> list[ChangedFile]:
    """Files changed from ``base_sha`` to ``head_sha`` (the working tree's tracked files when None), renames kept."""
    commits = (base_sha, head_sha) if head_sha else (base_sha,)
    fields = run_git(root, "diff", "--name-status", "-z", "-M", *commits, "--").split(b"\0")
    out: list[ChangedFile] = []
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
    return sorted(out, key=lambda c: c.path)


def git_root(path: str | Path) -> Path:
    start = Path(path)
    start = start if start.is_dir() else start.parent
    return Path(run_git(start, "rev-parse", "--show-toplevel").decode().strip())


class LocalPullContext:
    """The working tree (head) against a git ref (base); created per run, cached per field."""

    def __init__(self, root: str | Path, base_ref: str):
        self.root = Path(root)
        self.base_ref = base_ref

    def head_sha(self) -> str:
        return WORKTREE

    @cached_property
    def _base_sha(self) -> str:
        return resolve_commit(self.root, self.base_ref)

    def base_sha(self) -> str | None:
        return self._base_sha

    @cached_property
    def _changed(self) -> list[ChangedFile]:
        out = changed_between(self.root, self._base_sha)
        untracked = run_git(self.root, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0")
        out.extend(ChangedFile(p.decode(), "added") for p in untracked if p)
        return sorted(out, key=lambda c: c.path)

    def changed_files(self) -> list[ChangedFile]:
        return list(self._changed)

    def workspace(self, sha: str) -> Workspace:
        if sha == WORKTREE:
            return Workspace.from_directory(self.root, label="working tree")
        files: list[str] = []
        links: list[str] = []
        for record in run_git(self.root, "ls-tree", "-r", "-z", sha).split(b"\0"):
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
                return run_git(self.root, "cat-file", "blob", f"{sha}:{path}")
            except ConfigError:
                return None

        return Workspace(files, read, label=sha[:12], symlinks=links)
