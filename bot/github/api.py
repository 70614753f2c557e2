"""The narrow set of GitHub operations the bot uses, as plain data: reporters and the pull context need nothing more."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.jsonfields import list_at
from bot.pull.context import ChangedFile


@dataclass(frozen=True)
class PullInfo:
    number: int
    head_sha: str
    base_sha: str
    base_ref: str  # branch name the PR merges into
    html_url: str
    author: str = ""  # login of the PR's author
    labels: tuple[str, ...] = ()

    def facts(self) -> dict[str, object]:
        """What change-aware policies see as ``input.pull_request``."""
        return {"author": self.author, "labels": list(self.labels), "base_ref": self.base_ref}


def pull_info_from_payload(number: Any, pr: Mapping[str, Any]) -> PullInfo | None:
    """The webhook's pull request object as a `PullInfo`, when it is complete (None: fetch it instead).

    Like policy-bot's Locator: a ``pull_request`` delivery carries the whole object, so
    evaluating it needs no second request; anything missing or mistyped is not guessed.
    """
    head, base, user = pr.get("head"), pr.get("base"), pr.get("user")
    if not (isinstance(head, Mapping) and isinstance(base, Mapping)):
        return None
    texts = (head.get("sha"), base.get("sha"), base.get("ref"), pr.get("html_url"))
    if not isinstance(number, int) or isinstance(number, bool) or not all(isinstance(t, str) and t for t in texts):
        return None
    author = user.get("login") if isinstance(user, Mapping) else None
    names = tuple(lb["name"] for lb in list_at(pr, "labels") if isinstance(lb, Mapping) and isinstance(lb.get("name"), str))
    return PullInfo(number, str(texts[0]), str(texts[1]), str(texts[2]), str(texts[3]),
                    author=author if isinstance(author, str) else "", labels=names)


SYMLINK_MODE = "120000"  # git's mode for a symbolic link: the blob holds the target path


@dataclass(frozen=True)
class TreeEntry:
    path: str
    sha: str  # blob sha
    size: int = 0
    mode: str = "100644"

    @property
    def is_symlink(self) -> bool:
        return self.mode == SYMLINK_MODE


@dataclass(frozen=True)
class Comment:
    """An issue comment or a review comment: enough to find our own again."""

    id: int
    body: str
    author: str  # login, e.g. "gitops-policy-bot[bot]"
    author_type: str = ""  # "Bot" for Apps
    path: str = ""  # review comments only


@dataclass(frozen=True)
class ReviewComment:
    path: str
    line: int
    body: str
    side: str = "RIGHT"
    start_line: int | None = None  # multi-line suggestions

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "line": self.line, "side": self.side, "body": self.body}
        if self.start_line is not None and self.start_line < self.line:
            out["start_line"] = self.start_line
            out["start_side"] = self.side
        return out


@dataclass(frozen=True)
class CheckRunOutput:
    title: str
    summary: str
    text: str = ""
    annotations: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "summary": self.summary}
        if self.text:
            out["text"] = self.text
        if self.annotations:
            out["annotations"] = list(self.annotations)
        return out


class RepoApi(Protocol):
    """One repository seen through one installation token. Every call is retried on transient errors."""

    full_name: str

    def get_pull(self, number: int) -> PullInfo: ...
    def pull_files(self, number: int) -> list[ChangedFile]: ...
    def compare_files(self, base_sha: str, head_sha: str) -> list[ChangedFile]: ...
    def tree(self, sha: str) -> list[TreeEntry]: ...
    def blob(self, blob_sha: str) -> bytes: ...
    def blobs(self, shas: Sequence[str], sizes: Mapping[str, int]) -> dict[str, bytes]:
        """As many of ``shas`` as one or a few batched requests return (``sizes``: listed sizes); never guessed."""
    def cached_tree(self, sha: str) -> list[TreeEntry] | None: ...
    def remember_tree(self, sha: str, entries: list[TreeEntry]) -> None: ...
    def descends_from(self, base_sha: str, head_sha: str) -> bool: ...
    def directory(self, sha: str, path: str) -> list[TreeEntry] | None: ...
    def create_check_run(self, name: str, head_sha: str, output: CheckRunOutput | None = None) -> int: ...
    def open_check_runs(self, name: str, head_sha: str) -> list[int]:
        """Ids of this App's runs called ``name`` at ``head_sha`` that are not completed, newest first."""
    def update_check_run(self, check_run_id: int, *, conclusion: str | None = None,
                         output: CheckRunOutput | None = None) -> None: ...
    def committed_at(self, sha: str) -> str:
        """The commit's committer date as GitHub reports it (ISO 8601), "" when absent."""
    def issue_comments(self, number: int) -> list[Comment]: ...
    def create_issue_comment(self, number: int, body: str) -> int: ...
    def edit_issue_comment(self, comment_id: int, body: str) -> None: ...
    def delete_issue_comment(self, comment_id: int) -> None: ...
    def review_comments(self, number: int) -> list[Comment]: ...
    def create_review(self, number: int, commit_sha: str, body: str, comments: list[ReviewComment]) -> int: ...
    def required_status_checks(self, branch: str) -> list[str] | None:
        """Contexts the branch requires; None when the branch is not protected."""
    def add_reaction(self, comment_id: int, content: str) -> None:
        """React to an issue comment (eyes, +1, confused, ...)."""
    def collaborator_role(self, username: str) -> str:
        """admin | maintain | write | triage | read | none (none also for unknown users)."""
    def team_member(self, org: str, team_slug: str, username: str) -> bool:
        """True only for an active member of the team."""
