"""`PullRequestContext` over the GitHub API: one instance per delivery, shared by evaluation, commands and plan."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from bot.core.workspace import Workspace
from bot.errors import GitHubError
from bot.github.api import Comment, PullInfo, RepoApi, TreeEntry
from bot.pull.context import ChangedFile

# Below this many files a whole recursive listing is one small request: nothing to save by deriving it.
DERIVE_ABOVE_FILES = 2000
# Each touched directory costs a request; beyond a few, one recursive listing is cheaper.
MAX_DIRECTORY_LISTINGS = 4

# Blobs above this are not fetched: no manifest is that large, and the core caps file sizes anyway.
MAX_BLOB_BYTES = 5 * 1024 * 1024


class GitHubPullContext:
    """The change from ``base`` to ``head`` in one repository.

    ``pull_number`` given: changed files come from the pull request (with patches).
    No pull number but a base: from comparing the two commits (merge queues).
    No base: every file of head counts as added (whole-tree check).
    Reads are proportional to the change: one recursive tree listing per side,
    then only the blobs the core asks for; both come from the shared content cache
    (`bot.github.content_cache`) when another delivery or worker already read them.
    A new head of a pull request whose base listing is cached is listed directory by
    directory where the pull request touches it (`_new_head_of_known_base`).
    ``pull`` is the pull request as the delivery already holds it (its facts feed change-aware
    policies); ``approvals_from`` is the PR whose comments hold approvals when judging a merge group.
    """

    def __init__(self, api: RepoApi, head: str, base: str | None = None, pull_number: int | None = None, *,
                 pull: PullInfo | None = None, approvals_from: int | None = None) -> None:
        self._api = api
        self._head = head
        self._base = base
        self._pull_number = pull_number
        self._pull = pull
        self._approvals_from = pull_number if pull_number is not None else approvals_from
        self._changed: list[ChangedFile] | None = None
        self._workspaces: dict[str, Workspace] = {}
        self._lock = threading.Lock()
        # Blobs a workspace was told will be read (`Workspace.prefetch`), by sha with their listed size:
        # the next blob that is not at hand is read together with all of them, base and head alike.
        self._wanted: dict[str, int] = {}
        self._fetched: dict[str, bytes] = {}
        self._blob_lock = threading.Lock()

    def head_sha(self) -> str:
        return self._head

    def base_sha(self) -> str | None:
        return self._base

    def pull_number(self) -> int | None:
        return self._pull_number

    def pull(self) -> PullInfo | None:
        """The pull request as the delivery holds it (None: no pull request, or not handed in)."""
        return self._pull

    def pull_facts(self) -> dict[str, object] | None:
        return self._pull.facts() if self._pull is not None else None

    def comments(self) -> Sequence[Comment]:
        return self._api.issue_comments(self._approvals_from) if self._approvals_from is not None else []

    def changed_files(self) -> list[ChangedFile]:
        if self._changed is None:
            if self._pull_number is not None:
                self._changed = self._api.pull_files(self._pull_number)
            elif self._base:
                self._changed = self._api.compare_files(self._base, self._head)
            else:
                self._changed = [ChangedFile(path, "added") for path in self.workspace(self._head).paths]
        return list(self._changed)

    def workspace(self, sha: str) -> Workspace:
        with self._lock:
            if sha not in self._workspaces:
                listed = self._new_head_of_known_base() if sha == self._head else None
                listed = listed if listed is not None else self._api.tree(sha)
                entries = {e.path: e for e in listed if not e.is_symlink}  # a link's blob is its target path
                sizes = {path: e.size for path, e in entries.items()}
                self._workspaces[sha] = Workspace(entries.keys(), self._reader(entries), label=sha, sizes=sizes,
                                                  symlinks=[e.path for e in listed if e.is_symlink],
                                                  prefetcher=self._prefetcher(entries))
            return self._workspaces[sha]

    def _new_head_of_known_base(self) -> list[TreeEntry] | None:
        """Head's files from base's cached listing plus listings of the directories the pull request touches.

        A new head of a pull request is usually a few files away from a base whose (large) listing a
        worker already holds: then one compare (is base an ancestor of head, so the PR's files are
        exactly what changed?) and one listing per touched directory replace the whole recursive tree.
        None: read the whole tree (cold base, small tree, head already cached, or too many directories).
        """
        if self._base is None or self._pull_number is None or self._api.cached_tree(self._head) is not None:
            return None
        base = self._api.cached_tree(self._base)
        if base is None or len(base) < DERIVE_ABOVE_FILES:
            return None
        touched = sorted({_parent(p) for f in self.changed_files() for p in (f.path, f.previous_path) if p})
        if not touched or len(touched) > MAX_DIRECTORY_LISTINGS or not self._api.descends_from(self._base, self._head):
            return None
        listings: dict[str, list[TreeEntry]] = {}
        for directory in touched:
            listing = self._api.directory(self._head, directory)
            if listing is None:
                return None
            listings[directory] = listing
        entries = [e for e in base if _parent(e.path) not in listings]
        entries += [e for listing in listings.values() for e in listing]
        entries.sort(key=lambda e: e.path)
        self._api.remember_tree(self._head, entries)  # exact, so a tree at a sha like any other
        return entries

    def _reader(self, entries: dict[str, TreeEntry]) -> Callable[[str], bytes | None]:
        def read(path: str) -> bytes | None:
            entry = entries.get(path)
            if entry is None:
                return None
            if entry.size > MAX_BLOB_BYTES:
                # Manifests never get here (the core checks the listed size first); anything else this
                # large is not read, and never treated as absent.
                raise GitHubError(f"{path} is {entry.size:,} bytes, over the {MAX_BLOB_BYTES:,}-byte read limit")
            return self._blob(entry)

        return read

    def _prefetcher(self, entries: dict[str, TreeEntry]) -> Callable[[list[str]], None]:
        def want(paths: list[str]) -> None:
            with self._blob_lock:
                for path in paths:
                    entry = entries.get(path)
                    if entry is not None and entry.size <= MAX_BLOB_BYTES and entry.sha not in self._fetched:
                        self._wanted[entry.sha] = entry.size

        return want

    def _blob(self, entry: TreeEntry) -> bytes:
        """One blob; with it, every blob wanted so far, in one batched request (`RepoApi.blobs`)."""
        sha = entry.sha
        with self._blob_lock:
            if sha not in self._fetched and self._wanted:
                wanted = {**self._wanted, sha: entry.size}
                self._wanted.clear()
                self._fetched.update(self._api.blobs(list(wanted), wanted))
            data = self._fetched.pop(sha, None)  # the workspace keeps it now; the other side asks the cache
        return data if data is not None else self._api.blob(sha)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
