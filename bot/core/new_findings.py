"""New findings only: for a change, what was already wrong on the base branch is listed, never blocking.

A finding is the same on both sides when its rule, object identity and field path
match (never its line: an edit above it moves every line below). Findings without
an object (a file that does not parse) match by rule and file.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.findings import Finding
from bot.core.rego.results import POLICY_ERROR_RULE
from bot.core.rendered import RULE_RENDER_SKIPPED
from bot.core.sandbox import RULE_RESOURCE_LIMIT, RULE_TIMEOUT
from bot.core.schemas.catalog import RULE_CATALOG_UNAVAILABLE

NEW, ALL = "new", "all"

# Findings that say the change could not be judged (a stopped or broken policy, an unreachable backend
# or catalog, an invalid trusted config): a verdict nobody reached is never debt inherited from the base.
UNJUDGED_RULES = frozenset({
    "config/invalid", POLICY_ERROR_RULE, RULE_TIMEOUT, RULE_RESOURCE_LIMIT, RULE_CATALOG_UNAVAILABLE,
    "policy/opa-unavailable", "schema/kubeconform-missing", "schema/kubeconform-failed",
    "gatekeeper/evaluation-error", RULE_RENDER_SKIPPED,
})
REPORT_MODES = (NEW, ALL)

Identity = tuple[str, tuple[str, ...], str]


def finding_identity(f: Finding) -> Identity:
    """rule + object (group, kind, namespace, name) + field path; the file stands in when there is no object."""
    where = ("object", *f.resource.key()) if f.resource and f.resource.kind else ("file", f.file)
    return (f.rule, where, f.path)


def split_preexisting(head: Iterable[Finding], base: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(new, already on the base branch): unwaived head findings whose identity an unwaived base finding has.

    A finding waived at base is not debt the change inherits: if the change drops the
    waiver, the finding is new. Waived head findings stay with the new ones (shown as waived).
    """
    known = {finding_identity(f) for f in base if f.waived is None}
    new: list[Finding] = []
    old: list[Finding] = []
    for f in head:
        inherited = f.waived is None and f.rule not in UNJUDGED_RULES and finding_identity(f) in known
        (old if inherited else new).append(f)
    return new, old
