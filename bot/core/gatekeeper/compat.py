"""Rego v0 built-ins that Gatekeeper templates still call but neither engine offers any more.

OPA 1.x dropped the deprecated built-ins (``any``, ``all``, ``re_match``, ``set_diff``...)
and regorus never had them, yet many gatekeeper-library templates use them. Calls
are rewritten to functions of a small helper package with the same meaning.
"""

from __future__ import annotations

import re

COMPAT_PACKAGE = "gitops.gatekeeper_compat"
COMPAT_FILENAME = "gatekeeper_compat.rego"

# deprecated built-in -> helper function in COMPAT_PACKAGE
_REPLACEMENTS = {
    "any": "any_true",
    "all": "all_true",
    "re_match": "re_match",
    "set_diff": "set_diff",
    "net.cidr_overlap": "cidr_overlap",
    "cast_array": "cast_array",
    "cast_set": "cast_set",
}

COMPAT_MODULE = f"""package {COMPAT_PACKAGE}

any_true(xs) := count([x | some x in xs; x == true]) > 0

all_true(xs) := count([x | some x in xs; x != true]) == 0

re_match(pattern, value) := regex.match(pattern, value)

set_diff(a, b) := a - b

cidr_overlap(cidr, ip) := net.cidr_contains(cidr, ip)

cast_array(x) := [v | some v in x]

cast_set(x) := {{v | some v in x}}
"""

_CALL_RE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(_REPLACEMENTS, key=len, reverse=True)) + r")\s*\(")


def rewrite_deprecated_calls(source: str) -> str:
    """``any(xs)`` -> ``data.gitops.gatekeeper_compat.any_true(xs)``, leaving strings and comments alone."""
    out: list[str] = []
    for is_code, chunk in _split_code(source):
        if is_code:
            chunk = _CALL_RE.sub(lambda m: f"data.{COMPAT_PACKAGE}.{_REPLACEMENTS[m.group(1)]}(", chunk)
        out.append(chunk)
    return "".join(out)


def _split_code(source: str) -> list[tuple[bool, str]]:
    """(is_code, text) pieces: string literals ("..." and `...`) and # comments are not code."""
    pieces: list[tuple[bool, str]] = []
    i, start, n = 0, 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"`#":
            if i > start:
                pieces.append((True, source[start:i]))
            end = _literal_end(source, i)
            pieces.append((False, source[i:end]))
            i = start = end
        else:
            i += 1
    if start < n:
        pieces.append((True, source[start:]))
    return pieces


def _literal_end(source: str, i: int) -> int:
    ch = source[i]
    if ch == "#":
        end = source.find("\n", i)
        return len(source) if end < 0 else end
    if ch == "`":
        end = source.find("`", i + 1)
        return len(source) if end < 0 else end + 1
    j = i + 1
    while j < len(source) and source[j] not in "\"\n":
        j += 2 if source[j] == "\\" else 1
    return min(j + 1, len(source))
