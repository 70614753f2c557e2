"""Mechanical fixes as replacement text for a finding's line, for GitHub ``suggestion`` blocks.

Only fixes that cannot be wrong are offered: setting a known boolean field in a
mapping that already exists (or in a container that has none yet). A finding
that needs a human decision (which image tag? how much memory?) gets none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.core.findings import Finding

# rule id -> (the mapping the fix goes into, fields to set). The same fixes the built-in
# policies describe in their ``suggestion: {path, set}`` results.
FIXES: dict[str, tuple[str, dict[str, Any]]] = {
    "run-as-non-root": ("securityContext", {"runAsNonRoot": True}),
    "privilege-escalation": ("securityContext", {"allowPrivilegeEscalation": False}),
    "privileged-container": ("securityContext", {"privileged": False}),
    "host-network": ("spec", {"hostNetwork": False}),
    "host-pid": ("spec", {"hostPID": False}),
    "host-ipc": ("spec", {"hostIPC": False}),
}

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[A-Za-z0-9_.-]+):(?P<rest>.*)$")
_TRAILING_COMMENT = re.compile(r"\s+#.*$")
_CONTAINER_PATH = re.compile(r"(containers|initContainers|ephemeralContainers)\[\d+\]$")


@dataclass(frozen=True)
class Suggestion:
    """Replace lines ``start_line``..``end_line`` (1-based, inclusive) with ``replacement``."""

    start_line: int
    end_line: int
    replacement: str


def suggest(finding: Finding, text: str) -> Suggestion | None:
    """A mechanical fix for ``finding`` in the file ``text``, or None when there is no safe one."""
    lines = text.splitlines()
    if not 1 <= finding.line <= len(lines):
        return None
    if finding.suggestion is not None:  # the policy gave the replacement line itself
        return Suggestion(finding.line, finding.line, finding.suggestion)
    fix = FIXES.get(finding.rule)
    if fix is None:
        return None
    parent_key, fields = fix
    replacement = set_fields(lines, finding.line, parent_key, fields,
                             container=bool(_CONTAINER_PATH.search(finding.path)))
    return Suggestion(finding.line, finding.line, replacement) if replacement is not None else None


def set_fields(lines: list[str], line_no: int, parent_key: str, fields: dict[str, Any],
               container: bool = False) -> str | None:
    """Replacement for line ``line_no`` that sets ``fields``.

    The line may be one of the fields with a wrong value, the ``parent_key`` mapping
    itself (block or ``{}``), or -- with ``container`` -- the first line of a container
    that has no ``parent_key`` yet.
    """
    line = lines[line_no - 1]
    m = _KEY_LINE.match(line)
    if m is None:
        return None
    indent, dash, key, rest = m["indent"], m["dash"] or "", m["key"], m["rest"].strip()
    raw_rest = m["rest"]
    key_column = len(indent) + len(dash)
    if key in fields and _is_scalar(rest):
        return f"{indent}{dash}{key}: {_yaml(fields[key])}{_comment(raw_rest.lstrip())}"
    if key == parent_key and rest in ("", "{}") or (key == parent_key and rest.startswith("#")):
        child = " " * _child_indent(lines, line_no, key_column)
        head = f"{indent}{dash}{key}:" + (f" {_comment(rest).strip()}" if rest.startswith("#") else "")
        return "\n".join([head] + [f"{child}{k}: {_yaml(v)}" for k, v in fields.items()])
    if container and dash and parent_key != "spec":
        child = " " * key_column
        grandchild = " " * (key_column + 2)
        return "\n".join([line, f"{child}{parent_key}:"] + [f"{grandchild}{k}: {_yaml(v)}" for k, v in fields.items()])
    return None


def _child_indent(lines: list[str], line_no: int, key_column: int) -> int:
    """Indent of the mapping's existing children, or two more than its key."""
    for following in lines[line_no:]:
        stripped = following.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(following) - len(following.lstrip(" "))
        return indent if indent > key_column else key_column + 2
    return key_column + 2


def _is_scalar(rest: str) -> bool:
    value = rest.split(" #", 1)[0].strip()
    return bool(value) and not value.startswith(("{", "[", "|", ">", "&", "*"))


def _comment(rest: str) -> str:
    """A trailing comment as written (its spacing kept), or ""."""
    if rest.startswith("#"):
        return f" {rest}"
    m = _TRAILING_COMMENT.search(rest)
    return m.group(0) if m else ""


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
