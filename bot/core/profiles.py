"""Profiles: which Pod Security Standards level blocks (``profile: baseline`` by default, or ``restricted``).

Every built-in rule names its Pod Security control in METADATA ``custom.pss``
(``baseline``, ``restricted``, or ``none`` for the bot's own opinions). Its
METADATA severity is the default (baseline) one: restricted controls warn.
``profile: restricted`` raises them to errors. Config ``rules:`` overrides run
after the profile, so an explicit re-level always wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from bot.core.findings import Finding, Severity
from bot.core.rego.metadata import parse_package_metadata
from bot.core.rego.sources import builtin_sources

BASELINE, RESTRICTED = "baseline", "restricted"
PROFILES = (BASELINE, RESTRICTED)
DEFAULT_PROFILE = BASELINE


@cache
def builtin_pss_levels() -> dict[str, str]:
    """Rule id -> ``baseline`` | ``restricted`` | ``none`` for every built-in rule with METADATA."""
    levels: dict[str, str] = {}
    for filename, text in builtin_sources():
        if filename.endswith(".rego") and not filename.endswith("_test.rego"):
            meta = parse_package_metadata(text)
            if meta is not None and meta.id:
                levels[meta.id] = meta.pss or "none"
    return levels


def apply_profile(findings: Iterable[Finding], profile: str) -> list[Finding]:
    """Under ``restricted``, findings of restricted-level rules block; ``baseline`` keeps the METADATA severities."""
    if profile != RESTRICTED:
        return list(findings)
    levels = builtin_pss_levels()
    return [
        f.with_(severity=Severity.ERROR) if levels.get(f.rule) == RESTRICTED and f.severity < Severity.ERROR else f
        for f in findings
    ]
