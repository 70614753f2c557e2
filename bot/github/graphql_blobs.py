"""Many blobs in one request: GitHub's GraphQL ``repository.object(oid:)`` per blob, each checked against its sha.

The REST API answers one blob per request; a rendered verdict reads every file of a kustomize
root (a dozen or more). One GraphQL query with an alias per blob reads them together. GraphQL
returns a blob as UTF-8 ``text``, so a blob counts as read only when the bytes of that text hash
to the blob's sha (git's own id): binary, truncated, non-UTF-8 or missing blobs are left for
the REST reader, which returns the exact bytes. Nothing unverified is ever used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.github.blobs import git_blob_sha

# One query stays small: GitHub times out queries that run long, and truncates large texts itself.
BLOBS_PER_QUERY = 100
BYTES_PER_QUERY = 4 * 1024 * 1024


def blob_query(count: int) -> str:
    """A query reading ``count`` blobs by oid (variables ``$o0``..), aliased ``b0``.. in order."""
    variables = "".join(f", $o{i}: GitObjectID!" for i in range(count))
    fields = "".join(
        f"    b{i}: object(oid: $o{i}) {{ ... on Blob {{ oid isBinary isTruncated text }} }}\n" for i in range(count))
    return f"query Blobs($owner: String!, $name: String!{variables}) {{\n  repository(owner: $owner, name: $name) {{\n" \
           f"{fields}  }}\n}}\n"


def blob_variables(full_name: str, shas: Sequence[str]) -> dict[str, str]:
    owner, _, name = full_name.partition("/")
    return {"owner": owner, "name": name, **{f"o{i}": sha for i, sha in enumerate(shas)}}


def verified_blobs(data: Mapping[str, Any], shas: Sequence[str]) -> dict[str, bytes]:
    """The blobs of a `blob_query` answer whose text is exactly the blob (its git sha matches)."""
    repository = (data.get("data") or {}).get("repository") or {}
    out: dict[str, bytes] = {}
    for i, sha in enumerate(shas):
        blob = repository.get(f"b{i}")
        if not isinstance(blob, Mapping) or blob.get("isBinary") is not False or blob.get("isTruncated") is not False:
            continue
        text = blob.get("text")
        if not isinstance(text, str):
            continue
        raw = text.encode("utf-8", errors="surrogatepass")
        if git_blob_sha(raw) == sha:
            out[sha] = raw
    return out


def batches(shas: Sequence[str], sizes: Mapping[str, int]) -> list[list[str]]:
    """``shas`` cut into queries of at most `BLOBS_PER_QUERY` blobs and about `BYTES_PER_QUERY` bytes."""
    out: list[list[str]] = []
    current: list[str] = []
    total = 0
    for sha in shas:
        size = sizes.get(sha, 0)
        if current and (len(current) >= BLOBS_PER_QUERY or total + size > BYTES_PER_QUERY):
            out.append(current)
            current, total = [], 0
        current.append(sha)
        total += size
    if current:
        out.append(current)
    return out
