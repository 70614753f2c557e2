"""Which Rego builtins no policy may call: the ones that reach the network or the runtime.

Neither engine binding takes an OPA capabilities file, so the set is enforced on the
source text before a module reaches an engine, the same way for regorus and OPA.
Comments are ignored; string contents are not (template strings ``$"{...}"`` run code).
"""

from __future__ import annotations

import re

from bot.errors import PolicyError

# http.send and net.lookup_ip_addr reach out; opa.runtime exposes the process environment;
# rego.parse_module turns data into code. Listed in the README (Threat model).
REFUSED_BUILTINS: tuple[str, ...] = ("http.send", "net.lookup_ip_addr", "opa.runtime", "rego.parse_module")
_ROOTS = sorted({name.split(".", 1)[0] for name in REFUSED_BUILTINS})
# `http.send(...)`, `http . send`, and `http["send"]` (OPA accepts a bracketed call): any bracket
# after a refused root is refused, so escapes inside the brackets cannot hide the name.
_REFUSED_RE = re.compile(
    r"(?<![\w.])(?:"
    + "|".join(rf"{re.escape(root)}\s*\.\s*{re.escape(leaf)}\b" for root, leaf in (n.split(".", 1) for n in REFUSED_BUILTINS))
    + "|"
    + "|".join(rf"{re.escape(root)}\s*\[" for root in _ROOTS)
    + ")"
)


def refuse_unsafe_builtins(filename: str, source: str) -> None:
    """Raise PolicyError("compile FILE: ...:LINE ...") when ``source`` calls a refused builtin."""
    code = strip_comments(source)
    match = _REFUSED_RE.search(code)
    if match is None:
        return
    line = code.count("\n", 0, match.start()) + 1
    called = re.sub(r"\s+", "", match.group(0))
    raise PolicyError(
        f"compile {filename}: {filename}:{line}: {called} is not available: policies run without network or "
        f"runtime builtins ({', '.join(REFUSED_BUILTINS)}); pass what the policy needs as data instead"
    )


def strip_comments(source: str) -> str:
    """``source`` with every ``#`` comment blanked (line numbers kept); strings are respected."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == '"':
            j = i + 1
            while j < n and source[j] != '"' and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            out.append(source[i : j + 1])
            i = j + 1
            continue
        if ch == "`":
            end = source.find("`", i + 1)
            j = n if end < 0 else end + 1
            out.append(source[i:j])
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)
