"""Engine parity: constructs where regorus would judge differently from OPA, found statically.

OPA hoists every reference or call argument of a negated call out of the ``not``
(compiler stage RewriteDynamicTerms), so ``not f(input.missing)`` fails the body
under OPA while regorus negates the undefined call and succeeds. Gatekeeper runs
OPA, so OPA's answer is the right one. A module using the construct is judged by
the OPA engine (`route_engine`), or refused with a clear error when OPA is not
installed — never a different verdict. Chained v0 bodies (``p { a } { b }``) are
split into one rule per body first (`split_chained_bodies`), which both engines read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import regorus

from bot.errors import PolicyError

# Operators OPA treats as calls (their arguments are hoisted); `==`, `=` and `:=` are unifications.
_CALL_BOOL_OPS = frozenset({"Lt", "Le", "Gt", "Ge", "Ne"})
_DYNAMIC_NODES = frozenset({"RefDot", "RefBrack", "Call"})
_LITERAL_COLLECTIONS = frozenset({"Array", "Set", "Object"})


@dataclass(frozen=True)
class Divergence:
    file: str
    line: int
    snippet: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: `{self.snippet}`"


def route_engine(modules: Iterable[tuple[str, str]], engine: str) -> str:
    """``engine``, or ``opa`` when regorus would judge one of ``modules`` differently.

    Raises PolicyError naming the construct when OPA is needed but not installed.
    """
    if engine != "regorus":
        return engine
    found = [d for filename, source in modules for d in find_divergences(filename, source)]
    if not found:
        return engine
    try:
        import opa_bindings.engine  # noqa: F401  (the OPA engine's native library)
    except ImportError:
        raise PolicyError(
            f"{found[0]}: a negated call with an argument that may be undefined; regorus and OPA (Gatekeeper) "
            "disagree on it and the OPA engine is not installed, so the policy is refused. Bind the argument "
            "first (`v := <argument>` then `not f(v)`), or install opa-golib-python-bindings"
        ) from None
    return "opa"


def find_divergences(filename: str, source: str) -> list[Divergence]:
    """Every ``not`` whose call has a reference or call argument (what OPA hoists), in source order."""
    ast = _parse(filename, source)
    if ast is None:
        return []  # does not parse: the engine reports it
    rule_names = {name for name in _rule_names(ast)}
    text = source.encode()
    found = []
    for node in _walk(ast):
        negated = node.get("NotExpr") if isinstance(node, dict) else None
        if negated and _hoists_dynamic_argument(negated["expr"], rule_names):
            span = negated["span"]
            snippet = text[span["start"] : span["end"]].decode(errors="replace")
            found.append(Divergence(filename, span["line"], " ".join(snippet.split())[:120]))
    return found


def split_chained_bodies(source: str) -> str:
    """``head { a } { b }`` (v0: one rule per body) as ``head { a }`` + ``head { b }``, on the same lines.

    Only top-level bodies whose head is on the line the first body opens are split;
    anything else is left for the engine to accept or reject.
    """
    out: list[str] = []
    last = 0
    for head, brace in _chained_body_braces(source):
        out.append(source[last:brace])
        out.append(head + " ")
        last = brace
    out.append(source[last:])
    return "".join(out)


def _chained_body_braces(source: str) -> Iterator[tuple[str, int]]:
    """(head text, offset of the ``{``) of every chained body after the first."""
    depth = 0
    i = 0
    n = len(source)
    prev = ""  # previous significant top-level token: "word", "if", "op", or a bracket character
    last_group = ""  # what the last top-level {...} was: "body" | "value"
    head = ""
    while i < n:
        ch = source[i]
        if ch == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif ch in "\"`":
            i = _skip_string(source, i)
            prev = "word" if depth == 0 else prev
        elif ch in "([{":
            if depth == 0 and ch == "{":
                if prev not in _BODY_FOLLOWS:
                    last_group = "value"
                elif prev == "}" and last_group == "body":
                    if head:
                        yield head, i
                else:
                    line_start = source.rfind("\n", 0, i) + 1
                    candidate = source[line_start:i].rstrip()
                    at_top = candidate[:1] not in ("", " ", "\t", "}")
                    head = candidate if at_top and "else" not in candidate.split() else ""
                    last_group = "body"
            depth += 1
            i += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
            prev = ch if depth == 0 else prev
            i += 1
        elif depth > 0 or ch.isspace():
            i += 1
        elif ch.isalnum() or ch in "_.":
            j = i
            while j < n and (source[j].isalnum() or source[j] in "_."):
                j += 1
            word = source[i:j]
            prev = "if" if word == "if" else "op" if word in _KEYWORDS else "word"
            if word == "else":
                head, last_group = "", ""
            i = j
        else:
            prev = "op"
            i += 1


# After these, a top-level `{` opens a rule body; after anything else (`=`, `:=`, `contains`, ...) it is a value.
_BODY_FOLLOWS = frozenset({"word", "if", "]", ")", "}"})
_KEYWORDS = frozenset({"in", "contains", "else", "not", "some", "every", "with", "as", "default", "import", "package"})


def _skip_string(source: str, i: int) -> int:
    quote = source[i]
    i += 1
    while i < len(source):
        if source[i] == "\\" and quote == '"':
            i += 2
            continue
        if source[i] == quote:
            return i + 1
        i += 1
    return i


def _hoists_dynamic_argument(expr: dict[str, Any], rule_names: set[str]) -> bool:
    ((kind, node),) = expr.items()
    if kind == "Call":
        arguments = node.get("params", [])
    elif kind == "Membership":
        arguments = [a for a in (node.get("key"), node.get("value"), node.get("collection")) if a]
    elif kind == "BoolExpr" and node.get("op") in _CALL_BOOL_OPS or kind in ("ArithExpr", "BinExpr"):
        arguments = [node["lhs"], node["rhs"]]
    elif kind == "BoolExpr":  # `==`: OPA unifies; only calls nested in its operands are hoisted
        arguments = [a for a in (node["lhs"], node["rhs"]) if next(iter(a)) == "Call"]
    else:
        return False
    return any(_is_dynamic(a, rule_names) for a in arguments)


def _is_dynamic(term: dict[str, Any], rule_names: set[str]) -> bool:
    ((kind, node),) = term.items()
    if kind in _DYNAMIC_NODES or kind in ("ArithExpr", "BinExpr", "BoolExpr", "Membership"):
        return True
    if kind == "Var":
        return node.get("value") in rule_names  # bare `input` and `data` are always defined
    if kind in _LITERAL_COLLECTIONS:
        return any(_is_dynamic(t, rule_names) for t in _walk_terms(node))
    return False


def _walk_terms(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in node.get("items", []):
        if isinstance(item, list):  # object fields: [span, key, value]
            yield from (t for t in item if isinstance(t, dict) and len(t) == 1 and "span" not in t)
        elif isinstance(item, dict):
            yield item


def _rule_names(ast: dict[str, Any]) -> Iterator[str]:
    """Rules of the module that may be undefined (a constant such as ``allowed := {"a", "b"}`` never is)."""
    for rule in ast.get("rules", []):
        spec = rule.get("Spec") or rule.get("Default") or {}
        if rule.get("Default") or (not spec.get("bodies") and not _references(spec.get("head", {}))):
            continue
        head = spec.get("head") or {}
        for value in head.values() if isinstance(head, dict) else ():
            refr = value.get("refr") if isinstance(value, dict) else None
            name = _head_name(refr) if refr else (value.get("name") if isinstance(value, dict) else None)
            if isinstance(name, str):
                yield name
        refr = spec.get("refr")
        if refr:
            name = _head_name(refr)
            if name:
                yield name


def _references(head: dict[str, Any]) -> bool:
    """Whether a rule head's value reads anything (a variable, reference or call): else it is a constant."""
    values = [h.get("assign", {}).get("value") if isinstance(h.get("assign"), dict) else h.get("key") for h in head.values()]
    return any(
        isinstance(node, dict) and any(k in node for k in ("RefDot", "RefBrack", "Call", "Var"))
        for value in values
        for node in _walk(value)
    )


def _head_name(refr: dict[str, Any]) -> str | None:
    while isinstance(refr, dict) and len(refr) == 1:
        ((kind, node),) = refr.items()
        if kind == "Var":
            name: str | None = node.get("value")
            return name
        refr = node.get("refr")
    return None


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, dict):
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, (dict, list)))


def _parse(filename: str, source: str) -> dict[str, Any] | None:
    for v0 in (False, True):
        parser = regorus.Engine()
        parser.set_rego_v0(v0)
        try:
            parser.add_policy(filename, split_chained_bodies(source) if v0 else source)
        except RuntimeError:
            continue
        ast: dict[str, Any] = json.loads(parser.get_ast_as_json())[0]["ast"]
        return ast
    return None
