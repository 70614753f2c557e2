"""`RepoApi` over PyGithub: the only module that turns bot questions into GitHub REST calls."""

from __future__ import annotations

import base64
import dataclasses
import logging
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Github
from github.File import File
from github.GithubException import GithubException, UnknownObjectException
from github.PullRequest import PullRequest
from github.Repository import Repository

from bot.errors import GitHubError
from bot.github import graphql_blobs
from bot.github.api import SYMLINK_MODE, CheckRunOutput, Comment, PullInfo, ReviewComment, TreeEntry
from bot.github.auth import InstallationAuth, InstallationTokenCache
from bot.github.conditional import ConditionalCache
from bot.github.content_cache import ContentCache
from bot.github.rate_limit import MemoryRateLimitStore, RateLimiter
from bot.github.rate_limit_redis import RedisRateLimitStore
from bot.github.retry import GitHubRefusal, RetryPolicy, call_with_retries, is_final
from bot.github.sharing import GitHubSharing
from bot.github.token_store import SharedTokenStore
from bot.github.transport import GovernedAdapter, govern
from bot.pull.context import ChangedFile

log = logging.getLogger(__name__)

T = TypeVar("T")
# GitHub's contents API lists at most 1,000 files of a directory (use the trees API beyond).
CONTENTS_LISTING_LIMIT = 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _changed_file(file: File) -> ChangedFile:
    return ChangedFile(
        path=file.filename,
        status=file.status,
        previous_path=file.previous_filename or "",
        patch=file.patch or "",
    )


class PyGithubRepo:
    """One repository through one installation; every call retried per ``retry_policy``."""

    def __init__(self, gh: Github, full_name: str, retry_policy: RetryPolicy,
                 cache: ContentCache | None = None, app_id: int | None = None) -> None:
        self.full_name = full_name
        self._app_id = app_id  # only this App's check runs are ever reused or completed
        self._gh = gh
        self._policy = retry_policy
        self._cache = cache or ContentCache(None, memory_bytes=0)
        # Tree listings are cached per GitHub host and repository: a sha never answers for another one.
        self._tree_scope = f"{gh.requester.base_url}/{full_name}"
        self._repo: Repository = gh.get_repo(full_name)  # lazy: no request until needed
        self._pulls: dict[int, PullRequest] = {}

    def close(self) -> None:
        """Release the HTTP connections of this client (one client per evaluation)."""
        self._gh.close()

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        try:
            return call_with_retries(self._policy, operation, f"{what} ({self.full_name})")
        except GithubException as exc:
            message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
            verb = "was unavailable when asked to" if exc.status >= 500 else "refused to"
            error = GitHubRefusal if is_final(exc) else GitHubError
            raise error(f"GitHub {verb} {what} in {self.full_name}: {exc.status} {message}".rstrip()) from exc
        except (requests.exceptions.RequestException, ConnectionError) as exc:
            raise GitHubError(f"could not reach GitHub to {what} in {self.full_name}: {type(exc).__name__}") from exc

    def _pull(self, number: int) -> PullRequest:
        """A lazy PullRequest: requests happen on first attribute access, inside `_call`."""
        if number not in self._pulls:
            self._pulls[number] = self._repo.get_pull(number)
        return self._pulls[number]

    def get_pull(self, number: int) -> PullInfo:
        pr = self._pull(number)
        return self._call(f"read pull request #{number}",
                          lambda: PullInfo(number, pr.head.sha, pr.base.sha, pr.base.ref, pr.html_url,
                                                 author=pr.user.login if pr.user else "",
                                                 labels=tuple(label.name for label in (pr.labels or ()))))

    def pull_files(self, number: int) -> list[ChangedFile]:
        pr = self._pull(number)
        return self._call(f"list files of #{number}", lambda: [_changed_file(f) for f in pr.get_files()])

    def compare_files(self, base_sha: str, head_sha: str) -> list[ChangedFile]:
        return self._call(
            f"compare {base_sha[:7]}...{head_sha[:7]}",
            lambda: [_changed_file(f) for f in self._repo.compare(base_sha, head_sha).files],
        )

    def tree(self, sha: str) -> list[TreeEntry]:
        """The files of the commit ``sha``; a commit's tree never changes, so it comes from the cache when it can."""
        cached = self._cache.tree(self._tree_scope, sha)
        if cached is not None:
            return cached
        tree = self._call(f"read the tree at {sha[:7]}", lambda: self._repo.get_git_tree(sha, recursive=True))
        entries = [TreeEntry(e.path, e.sha, e.size or 0, e.mode or "100644") for e in tree.tree if e.type == "blob"]
        if tree.raw_data.get("truncated"):
            log.warning("tree of %s at %s is truncated by GitHub; some files are not visible", self.full_name, sha)
        else:
            self._cache.put_tree(self._tree_scope, sha, entries)
        return entries

    def cached_tree(self, sha: str) -> list[TreeEntry] | None:
        """The files of ``sha`` if a worker listed them before; never a request."""
        return self._cache.tree(self._tree_scope, sha)

    def remember_tree(self, sha: str, entries: list[TreeEntry]) -> None:
        """Cache a listing of ``sha`` that the caller assembled exactly (see `bot.github.pull_context`)."""
        self._cache.put_tree(self._tree_scope, sha, entries)

    def descends_from(self, base_sha: str, head_sha: str) -> bool:
        """Whether ``head`` contains ``base`` (``base...head`` is then exactly what changed)."""
        comparison = self._call(f"compare {base_sha[:7]}...{head_sha[:7]}", lambda: self._repo.compare(base_sha, head_sha))
        return comparison.status in ("ahead", "identical")

    def directory(self, sha: str, path: str) -> list[TreeEntry] | None:
        """The files directly in ``path`` at ``sha`` ([] when it does not exist); None when GitHub may list only part."""
        if not path:
            tree = self._call(f"list / at {sha[:7]}", lambda: self._repo.get_git_tree(sha, recursive=False))
            if tree.raw_data.get("truncated"):
                return None
            return [TreeEntry(e.path, e.sha, e.size or 0, e.mode or "100644") for e in tree.tree if e.type == "blob"]
        try:
            listing = self._call(f"list {path} at {sha[:7]}", lambda: self._repo.get_contents(path, ref=sha))
        except GitHubError as e:
            if isinstance(e.__cause__, UnknownObjectException):
                return []
            raise
        if not isinstance(listing, list):
            return []  # a file, not a directory: nothing lives under it
        if len(listing) >= CONTENTS_LISTING_LIMIT:
            return None
        # Submodules are listed as files too; only real blobs have a blob URL.
        return [TreeEntry(c.path, c.sha, c.size or 0, SYMLINK_MODE if c.type == "symlink" else "100644") for c in listing
                if c.type in ("file", "symlink") and "/git/blobs/" in (c.git_url or "")]

    def blob(self, blob_sha: str) -> bytes:
        cached = self._cache.blob(blob_sha)
        if cached is not None:
            return cached
        blob = self._call(f"read blob {blob_sha[:7]}", lambda: self._repo.get_git_blob(blob_sha))
        data = base64.b64decode(blob.content or "") if blob.encoding == "base64" else (blob.content or "").encode()
        self._cache.put_blob(blob_sha, data)
        return data

    def blobs(self, shas: Sequence[str], sizes: Mapping[str, int]) -> dict[str, bytes]:
        """Several blobs at once: cached ones, then the rest by GraphQL (`bot.github.graphql_blobs`).

        Blobs missing from the answer (binary, truncated, not UTF-8, or GraphQL refused) are not in
        the result: the caller reads those with `blob`, one REST request each. Transient failures
        (5xx after retries) raise `GitHubError`, as a REST read would.
        """
        out = {sha: data for sha in dict.fromkeys(shas) if (data := self._cache.blob(sha)) is not None}
        missing = [sha for sha in dict.fromkeys(shas) if sha not in out]
        if len(missing) < 2:  # one blob: the REST read is the same single request
            return out
        for batch in graphql_blobs.batches(missing, sizes):
            shown = ", ".join(sha[:7] for sha in batch[:3]) + (", ..." if len(batch) > 3 else "")
            try:
                answer = self._graphql(f"read {len(batch)} blobs ({shown})", graphql_blobs.blob_query(len(batch)),
                                       graphql_blobs.blob_variables(self.full_name, batch))
            except GitHubRefusal as exc:
                # A final no (GraphQL off on a GitHub Enterprise Server, a query GitHub rejects): the REST
                # reads that follow give the same bytes, one request each. Outages raise like any read.
                log.warning("GraphQL refused to read blobs in %s, reading them one by one: %s", self.full_name, exc)
                continue
            for sha, blob in graphql_blobs.verified_blobs(answer, batch).items():
                self._cache.put_blob(sha, blob)
                out[sha] = blob
        return out

    def _graphql(self, what: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        _, data = self._call(what, lambda: self._gh.requester.graphql_query(query, variables))
        return data

    def create_check_run(self, name: str, head_sha: str, output: CheckRunOutput | None = None) -> int:
        extra: dict[str, Any] = {"output": output.to_json()} if output else {}
        run = self._call("create a check run", lambda: self._repo.create_check_run(
            name=name, head_sha=head_sha, status="in_progress", started_at=_utcnow(), **extra))
        return run.id

    def open_check_runs(self, name: str, head_sha: str) -> list[int]:
        url = f"{self._repo.url}/commits/{urllib.parse.quote(head_sha, safe='')}/check-runs"

        def runs() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for page in range(1, 11):  # 1,000 runs of one name on one commit is far more than any retry loop makes
                _, data = self._repo.requester.requestJsonAndCheck(
                    "GET", url, parameters={"check_name": name, "filter": "all", "per_page": 100, "page": page})
                batch = data.get("check_runs") or [] if isinstance(data, dict) else []
                out += batch
                if len(batch) < 100:
                    break
            return out

        found = self._call(f"list the check runs of {head_sha[:7]}", runs)
        mine = [r for r in found if r.get("name") == name and r.get("status") != "completed"
                and (self._app_id is None or (r.get("app") or {}).get("id") in (None, self._app_id))]
        return sorted((int(r["id"]) for r in mine), reverse=True)

    def update_check_run(self, check_run_id: int, *, conclusion: str | None = None,
                         output: CheckRunOutput | None = None) -> None:
        fields: dict[str, Any] = {}
        if conclusion:
            fields.update(status="completed", conclusion=conclusion, completed_at=_utcnow())
        if output:
            fields["output"] = output.to_json()
        run = self._repo.get_check_run(check_run_id)  # lazy: only the URL
        self._call("update the check run", lambda: run.edit(**fields))

    def committed_at(self, sha: str) -> str:
        url = f"{self._repo.url}/commits/{urllib.parse.quote(sha, safe='')}"
        _, data = self._call(f"read commit {sha[:7]}", lambda: self._repo.requester.requestJsonAndCheck("GET", url))
        date = ((data.get("commit") or {}).get("committer") or {}).get("date") if isinstance(data, dict) else None
        return date if isinstance(date, str) else ""

    def issue_comments(self, number: int) -> list[Comment]:
        issue = self._repo.get_issue(number)  # lazy
        return self._call(f"list comments of #{number}", lambda: [
            Comment(c.id, c.body or "", c.user.login if c.user else "", c.user.type if c.user else "")
            for c in issue.get_comments()])

    def create_issue_comment(self, number: int, body: str) -> int:
        issue = self._repo.get_issue(number)
        return self._call(f"comment on #{number}", lambda: issue.create_comment(body)).id

    def edit_issue_comment(self, comment_id: int, body: str) -> None:
        url = f"{self._repo.url}/issues/comments/{comment_id}"
        self._call("edit a comment", lambda: self._repo.requester.requestJsonAndCheck(
            "PATCH", url, input={"body": body}))

    def delete_issue_comment(self, comment_id: int) -> None:
        url = f"{self._repo.url}/issues/comments/{comment_id}"
        self._call("delete a comment", lambda: self._repo.requester.requestJsonAndCheck("DELETE", url))

    def review_comments(self, number: int) -> list[Comment]:
        pr = self._pull(number)
        return self._call(f"list review comments of #{number}", lambda: [
            Comment(c.id, c.body or "", c.user.login if c.user else "", c.user.type if c.user else "", c.path or "")
            for c in pr.get_review_comments()])

    def create_review(self, number: int, commit_sha: str, body: str, comments: list[ReviewComment]) -> int:
        payload = {"commit_id": commit_sha, "body": body, "event": "COMMENT",
                   "comments": [c.to_json() for c in comments]}
        url = f"{self._repo.url}/pulls/{number}/reviews"
        _, data = self._call(f"review #{number}",
                             lambda: self._repo.requester.requestJsonAndCheck("POST", url, input=payload))
        return int(data["id"])

    def required_status_checks(self, branch: str) -> list[str] | None:
        url = f"{self._repo.url}/branches/{urllib.parse.quote(branch, safe='')}/protection/required_status_checks"
        try:
            _, data = call_with_retries(self._policy, lambda: self._repo.requester.requestJsonAndCheck("GET", url),
                                        "read branch protection")
        except UnknownObjectException:
            return None
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise GitHubError(f"GitHub refused to read the protection of {branch}: {exc.status}") from exc
        contexts = list(data.get("contexts") or [])
        contexts += [c.get("context", "") for c in data.get("checks") or [] if c.get("context") not in contexts]
        return contexts

    def add_reaction(self, comment_id: int, content: str) -> None:
        url = f"{self._repo.url}/issues/comments/{comment_id}/reactions"
        self._call("react to a comment", lambda: self._repo.requester.requestJsonAndCheck(
            "POST", url, input={"content": content}))

    def collaborator_role(self, username: str) -> str:
        url = f"{self._repo.url}/collaborators/{urllib.parse.quote(username, safe='')}/permission"
        data = self._optional_json(f"read the permission of {username}", url)
        if data is None:
            return "none"
        return str(data.get("role_name") or data.get("permission") or "none")

    def team_member(self, org: str, team_slug: str, username: str) -> bool:
        quote = urllib.parse.quote
        url = (f"{self._gh.requester.base_url}/orgs/{quote(org, safe='')}/teams/{quote(team_slug, safe='')}"
               f"/memberships/{quote(username, safe='')}")
        data = self._optional_json(f"read the membership of {username} in {org}/{team_slug}", url)
        return data is not None and data.get("state") == "active"

    def _optional_json(self, what: str, url: str) -> dict[str, Any] | None:
        """GET ``url``; None on 404 (GitHub's answer for "not a collaborator / not a member")."""
        try:
            _, data = call_with_retries(self._policy, lambda: self._repo.requester.requestJsonAndCheck("GET", url),
                                        what)
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise GitHubError(f"GitHub refused to {what} in {self.full_name}: {exc.status}") from exc
        except (requests.exceptions.RequestException, ConnectionError) as exc:
            raise GitHubError(f"could not reach GitHub to {what}: {type(exc).__name__}") from exc
        return data if isinstance(data, dict) else None


class GitHubClientFactory:
    """Makes `RepoApi`s for installations; holds the token cache, the rate limiter and the ETag cache.

    ``sharing`` (see `bot.github.sharing`) puts all three in Redis for every worker; without it
    they are this process's. Waits use ``retry_policy.sleep``/``clock``: tests never wait for real.
    Metrics and the job log line observe every GitHub answer through `bot.github.observe` (reported by the transport).
    """

    def __init__(self, app_id: int, private_key: str, api_url: str,
                 retry_policy: RetryPolicy | None = None, timeout_seconds: int = 30,
                 cache: ContentCache | None = None, sharing: GitHubSharing | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        sharing = sharing or GitHubSharing()
        # One secondary-limit back-off for the retries and for the shared hold-off.
        self.retry_policy = dataclasses.replace(retry_policy or RetryPolicy(),
                                                secondary_backoff_seconds=sharing.rate_limits.secondary_backoff_seconds)
        self.app_id = app_id
        self.scope = f"{app_id}@{self.api_url}"  # two Apps (or hosts) sharing a Redis never share state
        connection = sharing.connection
        shared_tokens = (SharedTokenStore(connection, sharing.token_key, self.scope)
                         if connection is not None and sharing.token_key is not None else None)
        self.tokens = InstallationTokenCache(app_id, private_key, self.api_url, self.retry_policy,
                                             shared=shared_tokens)
        pacing = dataclasses.replace(sharing.rate_limits, sleep=self.retry_policy.sleep, clock=self.retry_policy.clock)
        store = RedisRateLimitStore(connection) if connection is not None else MemoryRateLimitStore()
        self.limiter = RateLimiter(store, pacing, self.scope)
        # ETag answers hold repository content (patches, comments): in Redis only where the content cache is.
        self.etags = ConditionalCache(connection if sharing.etags_in_redis else None)
        self.cache = cache or ContentCache()  # trees and blobs by sha; shared across workers when given a store
        self._timeout = timeout_seconds

    def repo(self, installation_id: int, full_name: str) -> PyGithubRepo:
        self.tokens.token(installation_id)  # fails here (GitHubRefusal) when the App is no longer installed
        # Our own tenacity retries replace PyGithub's (retry=None), and `bot.github.transport` paces requests
        # (rate limits, one write at a time) in place of PyGithub's fixed pauses.
        gh = Github(
            auth=InstallationAuth(self.tokens, installation_id), base_url=self.api_url, retry=None,
            timeout=self._timeout, lazy=True, seconds_between_requests=None, seconds_between_writes=None,
            per_page=100,  # the maximum: fewer round trips for big pull requests
        )
        govern(gh, lambda kwargs: GovernedAdapter(installation_id, self.limiter, self.etags, self.scope,
                                                  self.tokens.forget, **kwargs))
        return PyGithubRepo(gh, full_name, self.retry_policy, self.cache, self.app_id)
