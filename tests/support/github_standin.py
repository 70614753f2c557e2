"""A local stand-in for the GitHub REST API: fixture repos at given shas, recorded requests, injected failures.

PyGithub reaches it through ``base_url``, over a real socket, so the bot's real
client code runs end to end. Every request is recorded and can be checked
against GitHub's published REST description (fixtures/github/openapi/rest-subset.json),
and GraphQL queries against its published schema (`tests.support.graphql_standin`).
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.support import graphql_standin
from tests.support.hook_deliveries import HookDeliveryLog

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENAPI_SUBSET = REPO_ROOT / "fixtures" / "github" / "openapi" / "rest-subset.json"
FIXTURE_REPOS = REPO_ROOT / "fixtures" / "repos"
BOT_LOGIN = "gitops-policy-bot[bot]"


@dataclass
class PullSpec:
    number: int
    base_sha: str
    head_sha: str
    base_ref: str = "main"
    head_ref: str = "feature"
    head_repo: str = ""  # fork PRs: "someone/fork"; "" means the base repository


@dataclass
class FixtureRepo:
    """One repository: commits as whole trees (sha -> {path: bytes}), pulls, protected branches."""

    full_name: str
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    pulls: dict[int, PullSpec] = field(default_factory=dict)
    protection: dict[str, list[str]] = field(default_factory=dict)  # branch -> required check contexts
    commit_dates: dict[str, str] = field(default_factory=dict)  # sha -> committer date (default: 2000)
    symlinks: dict[str, dict[str, str]] = field(default_factory=dict)  # sha -> {path: link target}
    diverged: set[tuple[str, str]] = field(default_factory=set)  # (base, head) where base is not an ancestor of head


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    authorization: str


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    path_contains: str
    secondary: bool = False  # a secondary limit's message without Retry-After


@dataclass
class RateWindow:
    """One installation's primary rate limit, as GitHub reports it in x-ratelimit-* headers."""

    remaining: int = 5000
    reset: int = 0  # unix time; 0: an hour from the first request
    limit: int = 5000


def _resource_of_request() -> str:
    """GitHub's limit for the current request, as its ``x-ratelimit-resource`` names it."""
    return "graphql" if request.path == "/graphql" else "core"


def load_tree(*layers: str | Path, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A commit's files: directories (relative to fixtures/repos/) laid over each other, then ``extra``."""
    files: dict[str, bytes] = {}
    for layer in layers:
        root = FIXTURE_REPOS / layer
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    files.update(extra or {})
    return files


def fake_sha(label: str) -> str:
    """A 40-hex commit id derived from a readable label."""
    return hashlib.sha1(label.encode()).hexdigest()


def blob_sha(data: bytes) -> str:
    """Git's blob id, as GitHub reports it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def unified_patch(before: bytes | None, after: bytes | None) -> str:
    """The ``patch`` GitHub shows for a file: unified hunks without the ---/+++ header."""
    old = (before or b"").decode("utf-8", "replace").splitlines()
    new = (after or b"").decode("utf-8", "replace").splitlines()
    lines = list(difflib.unified_diff(old, new, lineterm="", n=3))
    return "\n".join(lines[2:])


class GitHubStandIn:
    """Serve with ``with GitHubStandIn(repos).serving() as url:``; inspect ``requests`` afterwards."""

    def __init__(self, repos: list[FixtureRepo] | None = None, token_ttl: timedelta = timedelta(hours=1),
                 app_id: int = 4242) -> None:
        self.repos: dict[str, FixtureRepo] = {r.full_name: r for r in repos or []}
        self.token_ttl = token_ttl
        self.app_id = app_id  # the App every check run here belongs to
        self.requests: list[RecordedRequest] = []
        self.tokens_minted = 0
        self.calls_by_credential: dict[str, int] = {}  # Authorization header -> answers (rate-limit headers)
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.issue_comments: dict[int, dict[str, Any]] = {}
        self.review_comments: dict[int, dict[str, Any]] = {}
        self.reviews: dict[int, dict[str, Any]] = {}
        self.reactions: list[dict[str, Any]] = []
        self.roles: dict[tuple[str, str], str] = {}  # (repo, login) -> admin|maintain|write|triage|read
        self.teams: dict[tuple[str, str], dict[str, str]] = {}  # (org, team slug) -> {login: active|pending}
        self._failures: list[_Failure] = []
        self._gates: dict[str, threading.Event] = {}
        self.held: list[str] = []  # paths of requests that waited at a gate
        self.removed_installations: set[int] = set()  # token requests for these answer 404 (App uninstalled)
        self.hook = HookDeliveryLog()  # the App's webhook: events "sent" to it, its delivery log, redeliveries
        self.rate_windows: dict[int, RateWindow] = {}  # installation -> REST ("core") limit (requests with its token)
        self.graphql_windows: dict[int, RateWindow] = {}  # installation -> GraphQL limit: a window of its own
        self.revoked_tokens: set[str] = set()  # requests with these answer 401 Bad credentials
        self.minted_tokens: list[str] = []
        self.not_modified = 0  # 304s answered to If-None-Match (they cost no rate limit)
        self.clock: Callable[[], float] = time.time  # rate-limit windows only (tests move it with their fake sleep)
        self._ids = itertools.count(1001)
        self._lock = threading.RLock()
        self.base_url = ""
        self.app = self._build_app()

    # ---- test controls -------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500, retry_after: int | None = None,
                  path_contains: str = "", secondary: bool = False) -> None:
        """Answer the next ``count`` matching requests with ``status`` (403 + Retry-After: a secondary rate limit;
        ``secondary``: the secondary-limit message alone; 401: Bad credentials).

        A request matches when its path contains ``path_contains``, or for GraphQL, its body does.
        """
        with self._lock:
            self._failures += [_Failure(status, retry_after, path_contains, secondary) for _ in range(count)]

    def set_rate_limit(self, installation_id: int, remaining: int, reset_in: float = 3600.0,
                       resource: str = "core") -> RateWindow:
        """The installation's ``core`` (REST) or ``graphql`` window: ``remaining`` requests for ``reset_in`` seconds."""
        with self._lock:
            window = RateWindow(remaining, int(self.clock() + reset_in))
            self._windows(resource)[installation_id] = window
            return window

    def _windows(self, resource: str) -> dict[int, RateWindow]:
        return self.graphql_windows if resource == "graphql" else self.rate_windows

    def revoke_tokens(self) -> None:
        """Every token minted so far answers 401 from now on (as after the App's key was rotated)."""
        with self._lock:
            self.revoked_tokens.update(self.minted_tokens)

    def hold(self, path_contains: str) -> None:
        """Make requests whose path contains ``path_contains`` wait until `release` (a slow or hung GitHub)."""
        with self._lock:
            self._gates[path_contains] = threading.Event()

    def release(self) -> None:
        with self._lock:
            gates, self._gates = list(self._gates.values()), {}
        for gate in gates:
            gate.set()

    def add_issue_comment(self, repo: str, number: int, body: str, login: str = "octocat",
                          user_type: str = "User") -> int:
        with self._lock:
            cid = next(self._ids)
            self.issue_comments[cid] = {"repo": repo, "number": number, "body": body,
                                        "user": {"login": login, "type": user_type}}
            return cid

    def requests_to(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose path matches the regex ``path_pattern`` (anchored)."""
        return [r for r in self.requests if r.method == method and re.fullmatch(path_pattern, r.path)]

    def blobs_read(self, repo: str) -> list[str]:
        """Shas of the blobs asked for in ``repo``, one by one (REST) or together (GraphQL), in order."""
        shas: list[str] = []
        for r in self.requests:
            if r.method == "GET" and r.path.startswith(f"/repos/{repo}/git/blobs/"):
                shas.append(r.path.rsplit("/", 1)[1])
            elif r.path == "/graphql" and isinstance(r.json, dict):
                variables = r.json.get("variables") or {}
                if f"{variables.get('owner')}/{variables.get('name')}" == repo:
                    shas += [v for k, v in variables.items() if k not in ("owner", "name") and isinstance(v, str)]
        return shas

    def runs_for(self, head_sha: str) -> list[dict[str, Any]]:
        return [r for r in self.check_runs.values() if r["head_sha"] == head_sha]

    def comments_on(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.issue_comments.values() if c["repo"] == repo and c["number"] == number]

    @contextmanager
    def serving(self) -> Iterator[str]:
        server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler)
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="github-standin", daemon=True)
        thread.start()
        try:
            yield self.base_url
        finally:
            self.release()  # held requests would keep the server from shutting down
            server.shutdown()
            thread.join(timeout=10)

    # ---- the fake API --------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("github_standin")
        standin = self

        @app.before_request
        def record_and_maybe_fail() -> Response | None:
            body = request.get_json(silent=True) if request.data else None
            for fragment, gate in list(standin._gates.items()):
                if fragment in request.path:
                    standin.held.append(request.path)
                    gate.wait()
            with standin._lock:
                standin.requests.append(RecordedRequest(
                    request.method, request.path, dict(request.args), body,
                    request.headers.get("Authorization", "")))
                # A GraphQL request is matched by its body too: failing a blob's sha fails either way of reading it.
                target = request.path + (request.get_data(as_text=True) if request.path == "/graphql" else "")
                for i, failure in enumerate(standin._failures):
                    if failure.path_contains in target:
                        del standin._failures[i]
                        return standin._failure_response(failure)
                return standin._refuse_token_or_limit()

        @app.after_request
        def conditional_and_counted(response: Response) -> Response:
            return standin._conditional_and_counted(response)

        @app.after_request
        def rate_limit_headers(response: Response) -> Response:
            """GitHub's primary rate-limit headers on every answer: 5,000 an hour per credential."""
            credential = request.headers.get("Authorization", "")
            with standin._lock:
                used = standin.calls_by_credential[credential] = standin.calls_by_credential.get(credential, 0) + 1
            response.headers.setdefault("X-RateLimit-Limit", "5000")
            response.headers.setdefault("X-RateLimit-Remaining", str(max(5000 - used, 0)))
            response.headers.setdefault("X-RateLimit-Reset", str(int(time.time()) + 3600))
            response.headers.setdefault("X-RateLimit-Resource", _resource_of_request())
            return response

        def repo_or_404(owner: str, name: str) -> FixtureRepo:
            full = f"{owner}/{name}"
            if full not in standin.repos:
                raise _NotFound()
            return standin.repos[full]

        @app.errorhandler(_NotFound)
        def not_found(_: Exception) -> Response:
            return _json({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)

        @app.post("/app/installations/<int:installation_id>/access_tokens")
        def access_token(installation_id: int) -> Response:
            if not request.headers.get("Authorization", "").startswith("Bearer "):
                return _json({"message": "A JSON web token could not be decoded"}, 401)
            if installation_id in standin.removed_installations:
                return _json({"message": "Not Found",
                              "documentation_url": "https://docs.github.com/rest/apps/apps"}, 404)
            with standin._lock:
                standin.tokens_minted += 1
                n = standin.tokens_minted
                standin.minted_tokens.append(f"ghs_standin{installation_id}x{n:04d}")
            expires = datetime.now(UTC) + standin.token_ttl
            return _json({"token": f"ghs_standin{installation_id}x{n:04d}", "expires_at": _iso(expires),
                          "permissions": {"checks": "write", "contents": "read", "pull_requests": "write"},
                          "repository_selection": "all"}, 201)

        @app.get("/app/hook/deliveries")
        def list_hook_deliveries() -> Response:
            refused = standin._refuse_unless_app_jwt()
            if refused is not None:
                return refused
            per_page = min(int(request.args.get("per_page", 30)), 100)
            items, cursor = standin.hook.page(per_page, request.args.get("cursor"))
            resp = _json(items)
            if cursor is not None:
                resp.headers["Link"] = (f'<{standin.base_url}/app/hook/deliveries?per_page={per_page}'
                                        f'&cursor={cursor}>; rel="next"')
            return resp

        @app.post("/app/hook/deliveries/<int:delivery_id>/attempts")
        def redeliver_hook_delivery(delivery_id: int) -> Response:
            refused = standin._refuse_unless_app_jwt()
            if refused is not None:
                return refused
            if not standin.hook.redeliver(delivery_id):
                raise _NotFound()
            return _json({}, 202)

        @app.get("/repos/<owner>/<name>")
        def get_repo(owner: str, name: str) -> Response:
            return _json(standin._repo_json(repo_or_404(owner, name)))

        @app.get("/repos/<owner>/<name>/pulls/<int:number>")
        def get_pull(owner: str, name: str, number: int) -> Response:
            repo = repo_or_404(owner, name)
            if number not in repo.pulls:
                raise _NotFound()
            return _json(standin._pull_json(repo, repo.pulls[number]))

        @app.get("/repos/<owner>/<name>/pulls/<int:number>/files")
        def pull_files(owner: str, name: str, number: int) -> Response:
            repo = repo_or_404(owner, name)
            pull = repo.pulls.get(number) or _raise_not_found()
            return standin._paginated(_diff_files(repo, pull.base_sha, pull.head_sha))

        @app.get("/repos/<owner>/<name>/compare/<path:basehead>")
        def compare(owner: str, name: str, basehead: str) -> Response:
            repo = repo_or_404(owner, name)
            base, _, head = basehead.partition("...")
            if base not in repo.commits or head not in repo.commits:
                raise _NotFound()
            files = _diff_files(repo, base, head)
            status, behind = ("diverged", 1) if (base, head) in repo.diverged else ("ahead", 0)
            return _json({"url": f"{standin.base_url}/repos/{repo.full_name}/compare/{basehead}",
                          "status": status, "ahead_by": 1, "behind_by": behind, "total_commits": 1,
                          "commits": [], "files": files})

        @app.get("/repos/<owner>/<name>/git/trees/<sha>")
        def tree(owner: str, name: str, sha: str) -> Response:
            repo = repo_or_404(owner, name)
            files = repo.commits.get(sha)
            if files is None:
                raise _NotFound()
            links = {p: t.encode() for p, t in repo.symlinks.get(sha, {}).items()}
            entries = [{"path": p, "mode": "120000" if p in links else "100644", "type": "blob",
                        "sha": blob_sha(d), "size": len(d),
                        "url": f"{standin.base_url}/repos/{repo.full_name}/git/blobs/{blob_sha(d)}"}
                       for p, d in sorted({**files, **links}.items())]
            dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
            entries += [{"path": d, "mode": "040000", "type": "tree", "sha": hashlib.sha1(d.encode()).hexdigest(),
                         "url": ""} for d in dirs]
            if not request.args.get("recursive"):  # the commit's root tree, one level deep
                entries = [e for e in entries if "/" not in e["path"]]
            return _json({"sha": sha, "url": f"{standin.base_url}/repos/{repo.full_name}/git/trees/{sha}",
                          "tree": entries, "truncated": False})

        @app.get("/repos/<owner>/<name>/git/blobs/<sha>")
        def blob(owner: str, name: str, sha: str) -> Response:
            repo = repo_or_404(owner, name)
            links = [{p: t.encode() for p, t in commit.items()} for commit in repo.symlinks.values()]
            for files in [*repo.commits.values(), *links]:
                for data in files.values():
                    if blob_sha(data) == sha:
                        return _json({"sha": sha, "size": len(data), "encoding": "base64",
                                      "content": base64.encodebytes(data).decode(), "node_id": "B_1",
                                      "url": f"{standin.base_url}/repos/{repo.full_name}/git/blobs/{sha}"})
            raise _NotFound()

        @app.post("/graphql")
        def graphql() -> Response:
            def blobs_of(owner: str, name: str) -> dict[str, bytes] | None:
                repo = standin.repos.get(f"{owner}/{name}")
                if repo is None:
                    return None
                links = [{p: t.encode() for p, t in commit.items()} for commit in repo.symlinks.values()]
                return {blob_sha(d): d for files in [*repo.commits.values(), *links] for d in files.values()}

            return _json(graphql_standin.answer(request.get_json(silent=True), blobs_of))

        @app.get("/repos/<owner>/<name>/contents/<path:path>")
        def contents(owner: str, name: str, path: str) -> Response:
            repo = repo_or_404(owner, name)
            files = repo.commits.get(request.args.get("ref", ""), {})
            data = files.get(path)
            if data is None:
                return _directory_listing(repo, files, path.strip("/"))
            return _json({"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
                          "path": path, "sha": blob_sha(data), "content": base64.encodebytes(data).decode(),
                          "url": f"{standin.base_url}/repos/{repo.full_name}/contents/{path}"})

        @app.post("/repos/<owner>/<name>/check-runs")
        def create_check_run(owner: str, name: str) -> Response:
            repo = repo_or_404(owner, name)
            body = request.get_json()
            if body.get("head_sha") not in repo.commits:
                return _json({"message": "No commit found for SHA: " + str(body.get("head_sha")),
                              "documentation_url": "https://docs.github.com/rest/checks/runs"}, 422)
            with standin._lock:
                run_id = next(standin._ids)
                run = {"id": run_id, "repo": repo.full_name, "name": body["name"], "head_sha": body["head_sha"],
                       "status": body.get("status", "queued"), "conclusion": body.get("conclusion"),
                       "output": {"title": None, "summary": None, "text": None}, "annotations": [],
                       "updates": 0}
                standin._apply_output(run, body.get("output"))
                if body.get("conclusion"):
                    run["status"] = "completed"
                standin.check_runs[run_id] = run
            return _json(standin._run_json(run), 201)

        @app.get("/repos/<owner>/<name>/commits/<ref>")
        def get_commit(owner: str, name: str, ref: str) -> Response:
            repo = repo_or_404(owner, name)
            if ref not in repo.commits:
                return _json({"message": f"No commit found for SHA: {ref}",
                              "documentation_url": "https://docs.github.com/rest/commits/commits"}, 422)
            date = repo.commit_dates.get(ref, "2000-01-01T00:00:00Z")
            person = {"name": "Octo Cat", "email": "octocat@example.com", "date": date}
            return _json({"sha": ref, "url": f"{standin.base_url}/repos/{repo.full_name}/commits/{ref}",
                          "commit": {"message": "change", "author": person, "committer": person,
                                     "tree": {"sha": ref}}, "parents": [], "files": []})

        @app.get("/repos/<owner>/<name>/commits/<ref>/check-runs")
        def list_check_runs(owner: str, name: str, ref: str) -> Response:
            repo = repo_or_404(owner, name)
            if ref not in repo.commits:
                return _json({"message": f"No commit found for SHA: {ref}",
                              "documentation_url": "https://docs.github.com/rest/checks/runs"}, 422)
            wanted = request.args.get("check_name")
            with standin._lock:
                runs = [standin._run_json(r) for _, r in sorted(standin.check_runs.items(), reverse=True)
                        if r["repo"] == repo.full_name and r["head_sha"] == ref
                        and (wanted is None or r["name"] == wanted)]
            per_page, page = int(request.args.get("per_page", 30)), int(request.args.get("page", 1))
            return _json({"total_count": len(runs), "check_runs": runs[(page - 1) * per_page: page * per_page]})

        @app.patch("/repos/<owner>/<name>/check-runs/<int:run_id>")
        def update_check_run(owner: str, name: str, run_id: int) -> Response:
            repo_or_404(owner, name)
            body = request.get_json()
            with standin._lock:
                run = standin.check_runs.get(run_id) or _raise_not_found()
                run["updates"] += 1
                for key in ("name", "status", "conclusion"):
                    if key in body:
                        run[key] = body[key]
                if body.get("conclusion"):
                    run["status"] = "completed"
                standin._apply_output(run, body.get("output"))
            return _json(standin._run_json(run))

        @app.get("/repos/<owner>/<name>/issues/<int:number>/comments")
        def list_issue_comments(owner: str, name: str, number: int) -> Response:
            repo = repo_or_404(owner, name)
            with standin._lock:
                items = [standin._comment_json(cid, c) for cid, c in sorted(standin.issue_comments.items())
                         if c["repo"] == repo.full_name and c["number"] == number]
            return standin._paginated(items)

        @app.post("/repos/<owner>/<name>/issues/<int:number>/comments")
        def create_issue_comment(owner: str, name: str, number: int) -> Response:
            repo = repo_or_404(owner, name)
            cid = standin.add_issue_comment(repo.full_name, number, request.get_json()["body"], BOT_LOGIN, "Bot")
            return _json(standin._comment_json(cid, standin.issue_comments[cid]), 201)

        @app.patch("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
        def edit_issue_comment(owner: str, name: str, comment_id: int) -> Response:
            repo_or_404(owner, name)
            with standin._lock:
                comment = standin.issue_comments.get(comment_id) or _raise_not_found()
                comment["body"] = request.get_json()["body"]
                comment["edits"] = comment.get("edits", 0) + 1
            return _json(standin._comment_json(comment_id, comment))

        @app.delete("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
        def delete_issue_comment(owner: str, name: str, comment_id: int) -> Response:
            repo_or_404(owner, name)
            with standin._lock:
                standin.issue_comments.pop(comment_id, None) or _raise_not_found()
            return Response(status=204)

        @app.post("/repos/<owner>/<name>/issues/comments/<int:comment_id>/reactions")
        @app.post("/repos/<owner>/<name>/issues/<int:comment_id>/reactions")
        def react(owner: str, name: str, comment_id: int) -> Response:
            repo_or_404(owner, name)
            reaction = {"id": next(standin._ids), "content": request.get_json()["content"],
                        "target": comment_id, "path": request.path, "user": {"login": BOT_LOGIN, "type": "Bot"}}
            standin.reactions.append(reaction)
            return _json({k: v for k, v in reaction.items() if k not in ("target", "path")}, 201)

        @app.get("/repos/<owner>/<name>/collaborators/<username>/permission")
        def collaborator_permission(owner: str, name: str, username: str) -> Response:
            repo = repo_or_404(owner, name)
            role = standin.roles.get((repo.full_name, username))
            if role is None:
                return _json({"message": f"{username} is not a user",
                              "documentation_url": "https://docs.github.com/rest/collaborators"}, 404)
            legacy = {"maintain": "write", "triage": "read"}.get(role, role)
            return _json({"permission": legacy, "role_name": role,
                          "user": {"login": username, "type": "User", "permissions": {}}})

        @app.get("/orgs/<org>/teams/<team>/memberships/<username>")
        def team_membership(org: str, team: str, username: str) -> Response:
            state = standin.teams.get((org, team), {}).get(username)
            if state is None:
                raise _NotFound()
            return _json({"state": state, "role": "member",
                          "url": f"{standin.base_url}/organizations/1/team/2/memberships/{username}"})

        @app.post("/repos/<owner>/<name>/pulls/<int:number>/reviews")
        def create_review(owner: str, name: str, number: int) -> Response:
            repo = repo_or_404(owner, name)
            body = request.get_json()
            with standin._lock:
                review_id = next(standin._ids)
                standin.reviews[review_id] = {"repo": repo.full_name, "number": number, **body}
                for c in body.get("comments", []):
                    standin.review_comments[next(standin._ids)] = {
                        "repo": repo.full_name, "number": number, "review_id": review_id,
                        "path": c["path"], "line": c.get("line"), "side": c.get("side", "RIGHT"),
                        "body": c["body"], "commit_id": body.get("commit_id"),
                        "user": {"login": BOT_LOGIN, "type": "Bot"}}
            return _json({"id": review_id, "node_id": "PRR_1", "state": "COMMENTED", "body": body.get("body", ""),
                          "commit_id": body.get("commit_id"), "user": {"login": BOT_LOGIN, "type": "Bot"},
                          "html_url": f"{standin.base_url}/{repo.full_name}/pull/{number}#review-{review_id}",
                          "pull_request_url": f"{standin.base_url}/repos/{repo.full_name}/pulls/{number}"})

        @app.get("/repos/<owner>/<name>/pulls/<int:number>/comments")
        def list_review_comments(owner: str, name: str, number: int) -> Response:
            repo = repo_or_404(owner, name)
            with standin._lock:
                items = [{"id": cid, "path": c["path"], "line": c["line"], "side": c["side"], "body": c["body"],
                          "commit_id": c["commit_id"], "user": c["user"],
                          "url": f"{standin.base_url}/repos/{repo.full_name}/pulls/comments/{cid}"}
                         for cid, c in sorted(standin.review_comments.items())
                         if c["repo"] == repo.full_name and c["number"] == number]
            return standin._paginated(items)

        @app.get("/repos/<owner>/<name>/branches/<path:branch>/protection/required_status_checks")
        def required_checks(owner: str, name: str, branch: str) -> Response:
            repo = repo_or_404(owner, name)
            if branch not in repo.protection:
                return _json({"message": "Branch not protected",
                              "documentation_url": "https://docs.github.com/rest/branches"}, 404)
            contexts = repo.protection[branch]
            return _json({"strict": False, "contexts": contexts, "checks": [{"context": c, "app_id": None}
                                                                           for c in contexts],
                          "url": f"{standin.base_url}{request.path}"})

        return app

    def _refuse_unless_app_jwt(self) -> Response | None:
        """GitHub's App endpoints take only a JWT signed with the App's key (`app_private_key`), iss = app id."""
        import jwt
        from cryptography.hazmat.primitives import serialization

        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        public_key = serialization.load_pem_private_key(app_private_key().encode(), None).public_key()
        try:
            claims = jwt.decode(token, public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]})
        except jwt.PyJWTError:
            claims = {}
        if str(claims.get("iss")) != str(self.app_id):
            return _json({"message": "A JSON web token could not be decoded",
                          "documentation_url": "https://docs.github.com/rest"}, 401)
        return None

    # ---- JSON shapes -----------------------------------------------------------------------

    def _failure_response(self, failure: _Failure) -> Response:
        if failure.status in (403, 429) and (failure.retry_after is not None or failure.secondary):
            resp = _json({"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                                     "before you try again.",
                          "documentation_url": "https://docs.github.com/rest/overview/rate-limits"},
                         failure.status)
            if failure.retry_after is not None:
                resp.headers["Retry-After"] = str(failure.retry_after)
            return resp
        if failure.status == 401:
            return _json({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, 401)
        return _json({"message": "Server Error"}, failure.status)

    # ---- rate limits, revoked tokens, ETags -------------------------------------------------

    def _installation_of_request(self) -> int | None:
        match = re.fullmatch(r"token ghs_standin(\d+)x\d+", request.headers.get("Authorization", ""))
        return int(match.group(1)) if match else None

    def _refuse_token_or_limit(self) -> Response | None:
        """Under ``_lock``: 401 for a revoked token; 403 when the installation's primary window is used up."""
        if request.headers.get("Authorization", "").removeprefix("token ") in self.revoked_tokens:
            return _json({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, 401)
        installation = self._installation_of_request()
        windows = self._windows(_resource_of_request())
        window = windows.get(installation) if installation is not None else None
        if window is None or window.remaining > 0 or window.reset <= self.clock():
            return None
        resp = _json({"message": f"API rate limit exceeded for installation ID {installation}.",
                      "documentation_url": "https://docs.github.com/rest/overview/rate-limits"}, 403)
        resp.headers["X-RateLimit-Resource"] = _resource_of_request()
        return resp

    def _conditional_and_counted(self, response: Response) -> Response:
        """ETag on every JSON read, 304 when If-None-Match matches; x-ratelimit-* on every installation answer."""
        if request.method == "GET" and response.status_code == 200 and response.mimetype == "application/json":
            etag = 'W/"' + hashlib.sha1(response.get_data()).hexdigest() + '"'
            response.headers["ETag"] = etag
            if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
                response.status_code = 304
                response.set_data(b"")
                with self._lock:
                    self.not_modified += 1
        installation = self._installation_of_request()
        if installation is None:
            return response
        resource = _resource_of_request()
        with self._lock:
            window = self._windows(resource).setdefault(installation, RateWindow())
            now = self.clock()
            if window.reset <= now:
                window.reset, window.remaining = int(now + 3600), window.limit
            if response.status_code != 304 and window.remaining > 0:  # a 304 costs nothing
                window.remaining -= 1
            response.headers["X-RateLimit-Limit"] = str(window.limit)
            response.headers["X-RateLimit-Remaining"] = str(window.remaining)
            response.headers["X-RateLimit-Reset"] = str(window.reset)
            response.headers["X-RateLimit-Used"] = str(window.limit - window.remaining)
            response.headers["X-RateLimit-Resource"] = resource
        return response

    def _repo_json(self, repo: FixtureRepo) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        return {"id": abs(hash(repo.full_name)) % 10**8, "name": name, "full_name": repo.full_name,
                "owner": {"login": owner, "type": "Organization"}, "private": False,
                "html_url": f"https://github.com/{repo.full_name}", "default_branch": "main",
                "url": f"{self.base_url}/repos/{repo.full_name}"}

    def _pull_json(self, repo: FixtureRepo, pull: PullSpec) -> dict[str, Any]:
        head_repo = self.repos.get(pull.head_repo) if pull.head_repo else repo
        head_repo_json = self._repo_json(head_repo) if head_repo else {"full_name": pull.head_repo}
        return {"number": pull.number, "state": "open", "title": f"PR {pull.number}",
                "url": f"{self.base_url}/repos/{repo.full_name}/pulls/{pull.number}",
                "html_url": f"https://github.com/{repo.full_name}/pull/{pull.number}",
                "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": head_repo_json,
                         "label": f"{head_repo_json['full_name'].split('/')[0]}:{pull.head_ref}"},
                "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": self._repo_json(repo),
                         "label": f"{repo.full_name.split('/')[0]}:{pull.base_ref}"},
                "user": {"login": "octocat", "type": "User"},
                "labels": [{"name": name} for name in getattr(pull, "labels", ())]}

    def _run_json(self, run: dict[str, Any]) -> dict[str, Any]:
        return {"id": run["id"], "name": run["name"], "head_sha": run["head_sha"], "status": run["status"],
                "app": {"id": self.app_id, "slug": "gitops-policy-bot"},
                "conclusion": run["conclusion"], "output": {**run["output"],
                                                            "annotations_count": len(run["annotations"])},
                "url": f"{self.base_url}/repos/{run['repo']}/check-runs/{run['id']}",
                "html_url": f"https://github.com/{run['repo']}/runs/{run['id']}"}

    def _comment_json(self, cid: int, c: dict[str, Any]) -> dict[str, Any]:
        return {"id": cid, "body": c["body"], "user": c["user"],
                "url": f"{self.base_url}/repos/{c['repo']}/issues/comments/{cid}",
                "html_url": f"https://github.com/{c['repo']}/pull/{c['number']}#issuecomment-{cid}"}

    @staticmethod
    def _apply_output(run: dict[str, Any], output: dict[str, Any] | None) -> None:
        # GitHub replaces title/summary/text and *appends* annotations on every update.
        if not output:
            return
        for key in ("title", "summary", "text"):
            if key in output:
                run["output"][key] = output[key]
        run["annotations"] += output.get("annotations", [])

    def _paginated(self, items: list[dict[str, Any]]) -> Response:
        per_page = int(request.args.get("per_page", 30))
        page = int(request.args.get("page", 1))
        resp = _json(items[(page - 1) * per_page: page * per_page])
        if page * per_page < len(items):
            query = {**request.args, "page": str(page + 1), "per_page": str(per_page)}
            resp.headers["Link"] = (f'<{self.base_url}{request.path}?'
                                    + "&".join(f"{k}={v}" for k, v in query.items()) + '>; rel="next"')
        return resp


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the recorded requests are the log


class _NotFound(Exception):
    pass


def _raise_not_found() -> Any:
    raise _NotFound()


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _directory_listing(repo: FixtureRepo, files: dict[str, bytes], directory: str) -> Response:
    """The contents API's answer for a directory: its files and subdirectories, one level deep."""
    entries: dict[str, dict[str, Any]] = {}
    for path, data in sorted(files.items()):
        if not path.startswith(directory + "/"):
            continue
        name, _, rest = path[len(directory) + 1 :].partition("/")
        full = f"{directory}/{name}"
        if rest:
            entries.setdefault(name, {"type": "dir", "name": name, "path": full, "size": 0,
                                      "sha": hashlib.sha1(full.encode()).hexdigest(),
                                      "git_url": f"/repos/{repo.full_name}/git/trees/x"})
        else:
            entries[name] = {"type": "file", "name": name, "path": full, "size": len(data), "sha": blob_sha(data),
                             "git_url": f"/repos/{repo.full_name}/git/blobs/{blob_sha(data)}",
                             "url": f"/repos/{repo.full_name}/contents/{full}"}
    if not entries:
        raise _NotFound()
    return _json(list(entries.values()))


def _diff_files(repo: FixtureRepo, base_sha: str, head_sha: str) -> list[dict[str, Any]]:
    def tree(sha: str) -> dict[str, bytes]:  # a link's content is its target, as in git
        return {**repo.commits.get(sha, {}), **{p: t.encode() for p, t in repo.symlinks.get(sha, {}).items()}}

    base, head = tree(base_sha), tree(head_sha)
    out = []
    for path in sorted(set(base) | set(head)):
        before, after = base.get(path), head.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "modified"
        patch = unified_patch(before, after)
        adds = sum(1 for line in patch.splitlines() if line.startswith("+"))
        dels = sum(1 for line in patch.splitlines() if line.startswith("-"))
        out.append({"sha": blob_sha(after or b""), "filename": path, "status": status, "additions": adds,
                    "deletions": dels, "changes": adds + dels, "patch": patch,
                    "blob_url": f"https://github.com/{repo.full_name}/blob/{head_sha}/{path}",
                    "raw_url": f"https://github.com/{repo.full_name}/raw/{head_sha}/{path}",
                    "contents_url": f"/repos/{repo.full_name}/contents/{path}?ref={head_sha}"})
    return out


# ---- checking recorded requests against GitHub's REST description ------------------------------


def _load_subset() -> dict[str, Any]:
    return json.loads(OPENAPI_SUBSET.read_text())


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    greedy = ("{path}", "{basehead}", "{branch}")  # these may contain slashes
    pattern = "".join(
        (f"(?P<{p[1:-1]}>.+)" if p in greedy else f"(?P<{p[1:-1]}>[^/]+)") if p.startswith("{") else re.escape(p)
        for p in parts)
    return re.compile(f"^{pattern}$")


def match_operation(method: str, path: str, spec: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]] | None:
    """The (template, operation) of GitHub's description that ``method path`` calls, or None."""
    spec = spec or _load_subset()
    for template, ops in spec["paths"].items():
        if method.lower() in ops and _template_regex(template).match(path):
            return template, ops[method.lower()]
    return None


def request_problems(recorded: RecordedRequest, spec: dict[str, Any] | None = None) -> list[str]:
    """What is wrong with one request by GitHub's description: unknown operation, bad body, bad enum value."""
    spec = spec or _load_subset()
    if (recorded.method, recorded.path) == ("POST", "/graphql"):  # checked against GitHub's GraphQL schema
        return graphql_standin.query_problems(recorded.json)
    found = match_operation(recorded.method, recorded.path, spec)
    where = f"{recorded.method} {recorded.path}"
    if found is None:
        return [f"{where}: no such operation in GitHub's REST description"]
    _, op = found
    problems = []
    body_spec = op.get("requestBody")
    if body_spec is None:
        if recorded.json not in (None, {}):
            problems.append(f"{where}: the operation takes no body")
        return problems
    if recorded.json is None:
        if body_spec["required"]:
            problems.append(f"{where}: the request body is required")
        return problems
    validator = jsonschema.Draft7Validator(body_spec["schema"])
    for err in validator.iter_errors(recorded.json):
        path = "/".join(str(p) for p in err.absolute_path) or "(body)"
        problems.append(f"{where}: {path}: {err.message[:300]}")
    return problems


def all_request_problems(recorded: list[RecordedRequest]) -> list[str]:
    spec = _load_subset()
    return [p for r in recorded for p in request_problems(r, spec)]


# ---- an App identity for tests ----------------------------------------------------------------

_KEY_LOCK = threading.Lock()
_KEY_PEM: list[str] = []


def app_private_key() -> str:
    """A throwaway RSA key (PEM) for signing the App JWT; made once per test process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    with _KEY_LOCK:
        if not _KEY_PEM:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _KEY_PEM.append(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode())
        return _KEY_PEM[0]
