"""Which rules are queried for each document, and the single query that fetches them all.

Rules are queried by name rather than by package document: regorus loses the
imports of a package's second module when a whole package is evaluated
(``data.main`` with ``warn.rego`` beside ``deny.rego``), and naming rules keeps
a broken helper rule from failing every document. Each rule is wrapped in an
array comprehension so an undefined rule is ``[]`` instead of making the whole
query undefined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.rego.engine import package_of
from bot.core.rego.results import is_policy_rule

EXCEPTION_RULE = "exception"
# A rule head starts at column 0: `deny[msg] {`, `deny contains x if`, `warn_x := ...`, `default deny := ...`.
_RULE_HEAD_RE = re.compile(
    r"^(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?=\[|contains\b|if\b|:=|=|\{)", re.MULTILINE
)


@dataclass(frozen=True)
class RuleTarget:
    package: str
    rule: str

    @property
    def ref(self) -> str:
        return f"data.{self.package}.{self.rule}"


def find_targets(modules: Iterable[tuple[str, str]], wanted_package: Callable[[str], bool]) -> list[RuleTarget]:
    """deny/violation/warn (and prefixed) rules plus ``exception`` of every package ``wanted_package`` accepts."""
    found: set[RuleTarget] = set()
    for _filename, text in modules:
        package = package_of(text)
        if not package or not wanted_package(package):
            continue
        for name in _RULE_HEAD_RE.findall(text):
            if is_policy_rule(name) or name == EXCEPTION_RULE:
                found.add(RuleTarget(package, name))
    return sorted(found, key=lambda t: (t.package, t.rule))


def combined_query(targets: list[RuleTarget]) -> str:
    """One query for all targets: ``[[x | x := data.main.deny], ...]`` (each inner list is [] or [value]).

    One target per line: regorus rejects source lines longer than 1,024 characters.
    """
    return "[\n" + ",\n".join(single_query(t) for t in targets) + "\n]"


def single_query(target: RuleTarget) -> str:
    return f"[x | x := {target.ref}]"


def package_documents(targets: list[RuleTarget], values: list[Any]) -> dict[str, dict[str, Any]]:
    """Regroup per-rule answers into ``{package: {rule: value}}``, dropping undefined rules."""
    documents: dict[str, dict[str, Any]] = {}
    for target, wrapped in zip(targets, values, strict=True):
        document = documents.setdefault(target.package, {})
        if isinstance(wrapped, list) and wrapped:
            document[target.rule] = wrapped[0]
    return documents
