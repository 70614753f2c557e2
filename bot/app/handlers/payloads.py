"""The webhook payload fields the handlers read, as types (GitHub's documented shapes, narrowed to what is used).

A handler gets a `routing.Payload` (any JSON object) and views it through one of these once the web
front has refused deliveries that lack a required field (`shape.missing_fields`; a test keeps
`shape.REQUIRED_FIELDS` equal to the required keys below). Optional fields are ``NotRequired`` and
read with ``.get()``.
"""

# (no `from __future__ import annotations`: TypedDict reads NotRequired from evaluated annotations)
from typing import NotRequired, TypedDict


class Installation(TypedDict):
    id: int


class Repository(TypedDict):
    full_name: str


class Commit(TypedDict):
    """``pull_request.base`` / ``.head``: a commit on a branch of a repository."""

    sha: str
    ref: NotRequired[str]
    repo: NotRequired[Repository | None]  # None: the head fork was deleted


class PullRequest(TypedDict):
    head: Commit
    base: Commit


class PullRef(TypedDict):
    """An entry of ``check_run.pull_requests`` / ``check_suite.pull_requests``."""

    number: int
    base: Commit


class CheckApp(TypedDict):
    id: int


class CheckRun(TypedDict):
    head_sha: str
    name: NotRequired[str]
    app: NotRequired[CheckApp | None]
    pull_requests: NotRequired[list[PullRef] | None]


class CheckSuite(TypedDict):
    head_sha: str
    pull_requests: NotRequired[list[PullRef] | None]


class MergeGroup(TypedDict):
    head_sha: str
    base_sha: str
    head_ref: NotRequired[str]


class PullRequestEvent(TypedDict):
    action: str  # routed deliveries always carry the action their route names
    number: int
    installation: Installation
    repository: Repository
    pull_request: PullRequest


class CheckRunEvent(TypedDict):
    action: str
    installation: Installation
    repository: Repository
    check_run: CheckRun


class CheckSuiteEvent(TypedDict):
    action: str
    installation: Installation
    repository: Repository
    check_suite: CheckSuite


class MergeGroupEvent(TypedDict):
    action: str
    installation: Installation
    repository: Repository
    merge_group: MergeGroup


# event -> its payload type, for the handlers and for the test that keeps `shape.REQUIRED_FIELDS` in step.
EVENT_PAYLOADS: dict[str, type] = {
    "pull_request": PullRequestEvent,
    "check_run": CheckRunEvent,
    "check_suite": CheckSuiteEvent,
    "merge_group": MergeGroupEvent,
}
