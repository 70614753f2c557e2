"""Real git repositories in temporary directories, for plan tests: write files, commit, change, commit."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

_ENV = {
    "GIT_AUTHOR_NAME": "Plan Test",
    "GIT_AUTHOR_EMAIL": "plan@example.invalid",
    "GIT_COMMITTER_NAME": "Plan Test",
    "GIT_COMMITTER_EMAIL": "plan@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


class GitRepo:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True, env=_ENV
        ).stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for path, text in files.items():
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"))

    def delete(self, *paths: str) -> None:
        for path in paths:
            (self.root / path).unlink()

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
