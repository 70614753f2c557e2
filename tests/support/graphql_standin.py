"""The stand-in's GraphQL endpoint: queries checked against GitHub's published schema, blobs answered from fixtures.

The schema is the vendored cut of `@octokit/graphql-schema`
(fixtures/github/graphql/schema-subset.graphql, made by fixtures/github/vendor_graphql_schema.py):
a query that uses a field or type GitHub does not have, or the wrong variable types, is refused
with GitHub's error shape (HTTP 200 with ``errors``), as GitHub refuses it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema, graphql_sync, parse, validate
from graphql.error import GraphQLError

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "github" / "graphql" / "schema-subset.graphql"
# GitHub leaves ``text`` of large blobs truncated (``isTruncated``); the stand-in does so above this size.
TEXT_LIMIT = 512 * 1024


@functools.cache
def github_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def query_problems(body: Any) -> list[str]:
    """What GitHub would refuse in a GraphQL request body: not a query, unparsable, or invalid by its schema."""
    if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
        return ["POST /graphql: the body must be a JSON object with a query string"]
    if not isinstance(body.get("variables", {}), Mapping):
        return ["POST /graphql: variables must be an object"]
    try:
        document = parse(body["query"])
    except GraphQLError as e:
        return [f"POST /graphql: {e.message}"]
    return [f"POST /graphql: {e.message}" for e in validate(github_schema(), document)]


def answer(body: Any, repository: Callable[[str, str], Mapping[str, bytes] | None]) -> dict[str, Any]:
    """Execute a query; ``repository(owner, name)`` gives that repository's blobs by sha (None: no such repository)."""
    problems = query_problems(body)
    if problems:
        return {"errors": [{"message": p.removeprefix("POST /graphql: ")} for p in problems]}

    def resolve_repository(_info: Any, owner: str, name: str, followRenames: bool = True) -> Any:  # noqa: N803
        blobs = repository(owner, name)
        if blobs is None:
            raise GraphQLError(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return {"nameWithOwner": f"{owner}/{name}", "id": "R_1",
                "object": lambda _info, oid=None, expression=None: _blob(blobs, oid)}

    result = graphql_sync(github_schema(), body["query"], root_value={"repository": resolve_repository},
                          variable_values=dict(body.get("variables") or {}))
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
    return out


def _blob(blobs: Mapping[str, bytes], oid: str | None) -> dict[str, Any] | None:
    data = blobs.get(oid or "")
    if data is None:
        return None
    binary = b"\0" in data[:8000]  # git's own test for binary content
    truncated = not binary and len(data) > TEXT_LIMIT
    text = None if binary else data[:TEXT_LIMIT].decode("utf-8", errors="replace")
    return {"__typename": "Blob", "oid": oid, "abbreviatedOid": (oid or "")[:7], "id": f"B_{oid}",
            "byteSize": len(data), "isBinary": binary, "isTruncated": truncated, "text": text}
