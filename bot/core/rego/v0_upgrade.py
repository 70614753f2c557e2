"""Rewrite a Rego v0 module (``deny[msg] { ... }``) as Rego v1 text, for engines that only parse v1.

OPA 1.x rejects v0 syntax and the Go bindings expose no v0 switch, so old
conftest policies would not run on the OPA engine. regorus still parses v0 and
gives byte spans for every rule head and body; inserting ``contains`` and
``if`` at those spans is what ``opa fmt --v0-v1`` does for the common cases.
"""

from __future__ import annotations

import json
import re
from typing import Any

import regorus

from bot.core.rego.engine import compile_error
from bot.core.rego.parity import split_chained_bodies

_V0_HINTS = ("`if` keyword is required", "`contains` keyword is required")
_OPEN_BRACKET_RE = re.compile(rb"\s*\[\s*")


def looks_like_v0(message: str) -> bool:
    """True when a v1 parser rejected a module only for missing v1 keywords."""
    return any(hint in message for hint in _V0_HINTS)


def upgrade_v0_module(filename: str, source: str) -> str:
    """The v1 text of a v0 module; raises PolicyError when it is not valid v0 either."""
    source = split_chained_bodies(source)  # `p { a } { b }`: one v1 rule per body (v1 has no chained bodies)
    parser = regorus.Engine()
    parser.set_rego_v0(True)
    try:
        parser.add_policy(filename, source)
    except RuntimeError as e:
        raise compile_error(filename, str(e)) from None
    module = json.loads(parser.get_ast_as_json())[0]["ast"]
    text = source.encode()
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement) in bytes
    for rule in module.get("rules", []):
        spec = rule.get("Spec")
        if spec:
            edits.extend(_rule_edits(text, spec))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text.decode()


def _rule_edits(text: bytes, spec: dict[str, Any]) -> list[tuple[int, int, bytes]]:
    edits: list[tuple[int, int, bytes]] = []
    ((kind, head),) = spec["head"].items()
    if kind == "Set" and head.get("key"):
        edits.extend(_partial_set_edits(text, head))
    for body in spec.get("bodies", []):
        brace = _body_brace(text, body)
        if brace >= 0 and not text[:brace].rstrip().endswith(b"if"):
            edits.append((brace, brace, b"if "))
    return edits


def _partial_set_edits(text: bytes, head: dict[str, Any]) -> list[tuple[int, int, bytes]]:
    """``deny[msg]`` -> ``deny contains msg``; only the name and head spans are trusted (key spans are not)."""
    name_end = head["refr"][_only_key(head["refr"])]["span"]["end"]
    head_end = head["span"]["end"]
    opening = _OPEN_BRACKET_RE.match(text, name_end)
    if not opening or text[head_end - 1 : head_end] != b"]":
        return []  # already `deny contains msg`
    return [(name_end, opening.end(), b" contains "), (head_end - 1, head_end, b"")]


def _body_brace(text: bytes, body: dict[str, Any]) -> int:
    """Byte offset of the ``{`` that opens a body (an else body's span starts at ``else``)."""
    if not body.get("is_else"):
        start: int = body["query"]["span"]["start"]
        return start
    if not body["query"].get("stmts"):
        return -1  # `else := value` has no body: the next `{` belongs to another rule
    after = body["assign"]["span"]["end"] if body.get("assign") else body["span"]["start"] + len("else")
    return text.find(b"{", after)


def _only_key(node: dict[str, Any]) -> str:
    return next(iter(node))
