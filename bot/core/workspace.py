"""A read-only view of one side (base or head) of a repository tree.

The core never touches the file system or GitHub itself: it asks a
`Workspace`. The CLI builds one from a directory or a git ref, the App from
the GitHub API, tests from a dict.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path


class Workspace:
    """Files of one tree, keyed by forward-slash paths relative to its root.

    ``paths`` lists every file that exists; ``read`` returns bytes or None.
    Contents are fetched lazily through ``reader`` and cached.
    """

    def __init__(
        self,
        paths: Iterable[str],
        reader: Callable[[str], bytes | None],
        label: str = "",
        sizes: Mapping[str, int] | None = None,
    ):
        self._paths = sorted({p.strip("/") for p in paths})
        self._sizes = dict(sizes or {})  # known without reading (a git tree listing), so huge files are never fetched
        self._path_set = frozenset(self._paths)
        self._reader = reader
        self._cache: dict[str, bytes | None] = {}
        self.label = label

    @classmethod
    def from_dict(cls, files: dict[str, bytes | str], label: str = "") -> Workspace:
        data = {k.strip("/"): (v.encode() if isinstance(v, str) else v) for k, v in files.items()}
        return cls(data.keys(), data.get, label)

    @classmethod
    def from_directory(cls, root: str | os.PathLike[str], label: str = "") -> Workspace:
        base = Path(root)
        skip = {".git", ".venv", "node_modules", "__pycache__"}
        sizes: dict[str, int] = {}
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in skip)
            for name in filenames:
                full = Path(dirpath, name)
                if full.is_symlink() or not full.is_file():
                    continue  # symlinks could point outside the tree
                sizes[full.relative_to(base).as_posix()] = full.stat().st_size

        def read(path: str) -> bytes | None:
            try:
                return (base / path).read_bytes()
            except OSError:
                return None

        return cls(sizes, read, label or str(base), sizes=sizes)

    @property
    def paths(self) -> list[str]:
        return list(self._paths)

    def exists(self, path: str) -> bool:
        return path.strip("/") in self._path_set

    def read(self, path: str) -> bytes | None:
        path = path.strip("/")
        if path not in self._cache:
            self._cache[path] = self._reader(path)
        return self._cache[path]

    def forget(self, paths: Iterable[str]) -> None:
        """Drop cached contents: a whole-tree check reads each file once and must not keep the tree in memory."""
        for path in paths:
            self._cache.pop(path.strip("/"), None)

    def size(self, path: str) -> int | None:
        """The file's size when known without reading it, else None."""
        return self._sizes.get(path.strip("/"))

    def glob(self, pattern: str) -> list[str]:
        return [p for p in self._paths if fnmatch.fnmatch(p, pattern)]
