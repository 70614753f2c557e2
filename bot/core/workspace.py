"""A read-only view of one side (base or head) of a repository tree.

The core never touches the file system or GitHub itself: it asks a
`Workspace`. The CLI builds one from a directory or a git ref, the App from
the GitHub API, tests from a dict. Only listed paths are ever read, and
symbolic links are listed apart (``symlinks``), never followed: a link in a
pull request could point anywhere on the machine that reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path


class Workspace:
    """Files of one tree, keyed by forward-slash paths relative to its root.

    ``paths`` lists every file that exists; ``read`` returns bytes or None.
    Contents are fetched lazily through ``reader`` and cached. ``prefetcher``, when given, is told
    which files will be read soon (`prefetch`), so a remote tree can fetch them in one request.
    """

    def __init__(
        self,
        paths: Iterable[str],
        reader: Callable[[str], bytes | None],
        label: str = "",
        sizes: Mapping[str, int] | None = None,
        symlinks: Iterable[str] = (),
        prefetcher: Callable[[list[str]], None] | None = None,
    ):
        self._paths = sorted({p.strip("/") for p in paths})
        self.symlinks = sorted({p.strip("/") for p in symlinks} - set(self._paths))  # reported, never read
        self._sizes = dict(sizes or {})  # known without reading (a git tree listing), so huge files are never fetched
        self._path_set = frozenset(self._paths)
        self._reader = reader
        self._prefetcher = prefetcher
        self._cache: dict[str, bytes | None] = {}
        self.label = label

    @classmethod
    def from_dict(cls, files: dict[str, bytes | str], label: str = "") -> Workspace:
        data = {k.strip("/"): (v.encode() if isinstance(v, str) else v) for k, v in files.items()}
        return cls(data.keys(), data.get, label)

    @classmethod
    def from_directory(cls, root: str | os.PathLike[str], label: str = "") -> Workspace:
        base = Path(root).resolve()
        skip = {".git", ".venv", "node_modules", "__pycache__"}
        sizes: dict[str, int] = {}
        links: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):  # never descends into linked directories
            links += [Path(dirpath, d).relative_to(base).as_posix() for d in dirnames if Path(dirpath, d).is_symlink()]
            dirnames[:] = sorted(d for d in dirnames if d not in skip and not Path(dirpath, d).is_symlink())
            for name in filenames:
                full = Path(dirpath, name)
                if full.is_symlink():
                    links.append(full.relative_to(base).as_posix())
                elif full.is_file():
                    sizes[full.relative_to(base).as_posix()] = full.stat().st_size

        def read(path: str) -> bytes | None:
            return _read_inside(base, path)

        return cls(sizes, read, label or str(root), sizes=sizes, symlinks=links)

    @property
    def paths(self) -> list[str]:
        return list(self._paths)

    def exists(self, path: str) -> bool:
        return path.strip("/") in self._path_set

    def read(self, path: str) -> bytes | None:
        """The file's bytes; None for anything not listed (absent, a symlink, outside the root)."""
        path = path.strip("/")
        if path not in self._path_set:
            return None
        if path not in self._cache:
            self._cache[path] = self._reader(path)
        return self._cache[path]

    def prefetch(self, paths: Iterable[str]) -> None:
        """Say that these files will be read soon: a no-op locally, one batched request for the App's trees."""
        if self._prefetcher is None:
            return
        wanted = sorted(({p.strip("/") for p in paths} & self._path_set) - self._cache.keys())
        if wanted:
            self._prefetcher(wanted)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop cached contents: a whole-tree check reads each file once and must not keep the tree in memory."""
        for path in paths:
            self._cache.pop(path.strip("/"), None)

    def size(self, path: str) -> int | None:
        """The file's size when known without reading it, else None."""
        return self._sizes.get(path.strip("/"))


def _read_inside(root: Path, path: str) -> bytes | None:
    """Read ``root/path`` only if it is a regular file that resolves inside ``root`` (checked at read time,
    since the listing: a file swapped for a link in between is refused too)."""
    full = root / path
    try:
        if full.resolve(strict=True).relative_to(root) != Path(path):
            return None  # some component became a link
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
