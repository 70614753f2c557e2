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

# Go's fmt (so OPA, so Gatekeeper) writes %!v(MISSING) for a verb without an argument; regorus fails.
sprintf_go(format, args) := sprintf(format, _padded(args, count(regex.find_n(`%[-+# 0]*[0-9]*(\\.[0-9]+)?[a-zA-Z]`, replace(format, "%%", ""), -1))))

_padded(args, verbs) := args if count(args) >= verbs

_padded(args, verbs) := array.concat(args, ["%!v(MISSING)" | some _ in numbers.range(count(args) + 1, verbs)]) if count(args) < verbs
"""

# A statement that opens with "(" on the line after a name: OPA starts a new expression there,
# regorus reads ``name\n(...)`` as a call of ``name``. A ";" keeps OPA's reading on both engines.
_NAME_THEN_PAREN_LINE_RE = re.compile(r"(?<!\w)([A-Za-z_]\w*)([ \t]*)(?=\n[ \t\n]*\()")
_KEYWORDS = frozenset({"not", "some", "in", "with", "as", "if", "else", "contains", "every", "default", "import", "package"})

_SPRINTF_RE = re.compile(r"(?<![\w.])sprintf\s*\(")

_CALL_RE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(_REPLACEMENTS, key=len, reverse=True)) + r")\s*\(")


def rewrite_deprecated_calls(source: str) -> str:
    """``any(xs)`` -> ``data.gitops.gatekeeper_compat.any_true(xs)``, leaving strings and comments alone."""
    out: list[str] = []
    for is_code, chunk in split_code(source):
        if is_code:
            chunk = _CALL_RE.sub(lambda m: f"data.{COMPAT_PACKAGE}.{_REPLACEMENTS[m.group(1)]}(", chunk)
        out.append(chunk)
    return "".join(out)


def pad_sprintf_arguments(source: str) -> str:
    """For regorus: ``sprintf(f, args)`` -> a helper that pads missing arguments as Go's fmt does."""
    out: list[str] = []
    for is_code, chunk in split_code(source):
        if is_code:
            chunk = _SPRINTF_RE.sub(f"data.{COMPAT_PACKAGE}.sprintf_go(", chunk)
        out.append(chunk)
    return "".join(out)


def separate_parenthesized_statements(source: str) -> str:
    """``x := input.a`` + newline + ``(x - 1) > 0``: end the first line with ";" so no engine reads a call."""
    out: list[str] = []
    for is_code, chunk in split_code(source):
        if is_code:
            chunk = _NAME_THEN_PAREN_LINE_RE.sub(_end_statement, chunk)
        out.append(chunk)
    return "".join(out)


def _end_statement(match: re.Match[str]) -> str:
    name = match.group(1)
    return match.group(0) if name in _KEYWORDS else f"{name};{match.group(2)}"


def split_code(source: str) -> list[tuple[bool, str]]:
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
