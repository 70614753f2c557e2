"""Blobs read together through GitHub's GraphQL API: exact bytes or none, REST for what GraphQL cannot give."""

from __future__ import annotations

from collections import Counter

from bot.github.client import GitHubClientFactory
from bot.github.content_cache import ContentCache
from bot.github.pull_context import GitHubPullContext
from tests.support.github_standin import (
    FixtureRepo,
    GitHubStandIn,
    all_request_problems,
    app_private_key,
    blob_sha,
    fake_sha,
)
from tests.support.graphql_standin import TEXT_LIMIT, query_problems

REPO = "acme/blobs"
SHA = fake_sha("blobs")
FILES = {
    "plain.yaml": b"kind: ConfigMap\n",
    "crlf.yaml": b"kind: ConfigMap\r\nmetadata: {name: x}\r\n",
    "unicode.yaml": "data: {greeting: grüße ✓}\n".encode(),
    "latin1.yaml": "data: {greeting: grüße}\n".encode("latin-1"),  # not UTF-8: GraphQL's text is not these bytes
    "binary.bin": b"\x00\x01\x02 binary",
    "large.yaml": b"# " + b"x" * (TEXT_LIMIT + 10) + b"\n",  # GraphQL truncates its text
}


def _read_all(standin: GitHubStandIn) -> tuple[dict[str, bytes | None], Counter[str]]:
    api = GitHubClientFactory(42, app_private_key(), standin.base_url, cache=ContentCache()).repo(1, REPO)
    ws = GitHubPullContext(api, SHA).workspace(SHA)
    start = len(standin.requests)
    ws.prefetch(ws.paths)
    read = {path: ws.read(path) for path in ws.paths}
    return read, Counter("graphql" if r.path == "/graphql" else "rest blob" for r in standin.requests[start:])


def test_prefetched_blobs_arrive_in_one_query_and_only_verified_text_is_used():
    standin = GitHubStandIn([FixtureRepo(REPO, commits={SHA: FILES})])
    with standin.serving():
        read, requests = _read_all(standin)
    assert read == FILES  # byte for byte, whichever way each came
    # plain, crlf and unicode from the query; latin1 (text is not its bytes), binary and large by REST.
    assert requests == {"graphql": 1, "rest blob": 3}, requests
    assert all_request_problems(standin.requests) == []


def test_a_refused_query_leaves_every_blob_to_rest():
    standin = GitHubStandIn([FixtureRepo(REPO, commits={SHA: FILES})])
    standin.fail_next(status=400, path_contains="/graphql")
    with standin.serving():
        read, requests = _read_all(standin)
    assert read == FILES
    assert requests == {"graphql": 1, "rest blob": len(FILES)}, requests


def test_the_stand_in_refuses_what_githubs_schema_refuses():
    sha = blob_sha(b"x")
    wrong_field = {"query": "query($o: GitObjectID!) { repository(owner: \"a\", name: \"b\") "
                            "{ object(oid: $o) { ... on Blob { content } } } }", "variables": {"o": sha}}
    wrong_type = {"query": "query($o: String!) { repository(owner: \"a\", name: \"b\") "
                           "{ object(oid: $o) { ... on Blob { text } } } }", "variables": {"o": sha}}
    assert any("Cannot query field 'content' on type 'Blob'" in p for p in query_problems(wrong_field))
    assert any("Variable '$o' of type 'String!'" in p for p in query_problems(wrong_type))
    assert query_problems({"query": "{ repository(owner: \"a\", name: \"b\") { nameWithOwner } }"}) == []
