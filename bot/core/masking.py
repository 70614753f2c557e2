"""Redact things that look like credentials from any text the bot shows to people.

The core never puts Secret data values in messages; this is the second line of
defence for what slips through anyway (a token pasted into an annotation, an
env var with a literal password echoed by a policy message). Every reporter
runs its output through `mask_report` or `mask_secrets`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Collection, Iterable
from typing import Any

from bot.core.findings import Finding, Waiver
from bot.core.report import Report
from bot.core.resource import Resource

MASK = "***"

# PEM blocks, including one cut off before its END line (a truncated message still leaks the key).
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?!\*\*\*).*?(?:-----END \1PRIVATE KEY-----|\Z)",
    re.DOTALL,
)

# GitHub token formats: https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
_GITHUB_TOKEN = re.compile(r"\b(gh[pousr]_)[A-Za-z0-9]{20,255}\b")
_GITHUB_FINE_GRAINED_PAT = re.compile(r"\b(github_pat_)[A-Za-z0-9_]{20,255}\b")

# AWS access key ids: AKIA (long-term) and ASIA (temporary), 20 characters in all.
_AWS_ACCESS_KEY_ID = re.compile(r"\b((?:AKIA|ASIA))[0-9A-Z]{16}\b")

# Slack tokens and JSON Web Tokens show up in ConfigMaps more often than one would hope.
_SLACK_TOKEN = re.compile(r"\b(xox[abposr]-)[A-Za-z0-9-]{10,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")

# An Authorization header's value, whatever its scheme.
_AUTHORIZATION_HEADER = re.compile(
    r"\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token|digest)(\s+))?+(?!\*\*\*)[^\s\"',;]+",
    re.IGNORECASE,
)
# A bare "Bearer <token>" or "Basic <base64>" elsewhere. The lookahead wants a digit or padding in
# the credential so prose such as "Basic authentication" is left alone.
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic)(\s+)(?=[A-Za-z0-9\-._~+/]*[0-9=])[A-Za-z0-9\-._~+/]{8,}=*")

# Credentials inside URLs: postgres://app:s3cret@db:5432/app -> postgres://app:***@db:5432/app.
_URL_USERINFO = re.compile(
    r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*+://[^\s:/@]++:)(?!\*\*\*@)[^\s/@]++@", re.IGNORECASE
)

# key/value pairs whose key names a credential: "password: xyz", "DB_PASSWORD=xyz", '"apiKey": "xyz"'.
# The key must END with the sensitive word, so "secretName: db-creds" or "tokenTTL: 5m" stay readable.
# Matches start only where a key can start (the lookbehind) and the key is taken possessively, so a
# long run of key characters costs one pass, not one pass per position (no quadratic blow-up).
_SENSITIVE_WORD = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key"
    r"|private[_-]?key|client[_-]?secret)"
)
_SEPARATOR = r"""["']?\s*[:=]\s*"""
_KEY_VALUE = re.compile(
    rf"""(?<![A-Za-z0-9_.-])(?P<key>(?=[A-Za-z0-9_.-]*?{_SENSITIVE_WORD}{_SEPARATOR})[A-Za-z0-9_.-]++)"""
    rf"""(?P<sep>{_SEPARATOR})(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;'"}}\]]+)""",
    re.IGNORECASE,
)


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.strip("\"'") in ("", MASK):
        return match.group(0)  # nothing to hide: keep "password: ''" legible
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group('key')}{match.group('sep')}{quote}{MASK}{quote}"


def mask_secrets(text: str) -> str:
    """Return ``text`` with anything that looks like a credential replaced by ``***``.

    Token prefixes (``ghp_``, ``AKIA``) and key names are kept so the reader
    still knows what was there and where to look.
    """
    if not text:
        return text
    text = _PEM_PRIVATE_KEY.sub(lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY-----{MASK}", text)
    text = _GITHUB_TOKEN.sub(lambda m: m.group(1) + MASK, text)
    text = _GITHUB_FINE_GRAINED_PAT.sub(lambda m: m.group(1) + MASK, text)
    text = _AWS_ACCESS_KEY_ID.sub(lambda m: m.group(1) + MASK, text)
    text = _SLACK_TOKEN.sub(lambda m: m.group(1) + MASK, text)
    text = _JWT.sub(MASK, text)
    text = _AUTHORIZATION_HEADER.sub(
        lambda m: f"{m.group(1)}{m.group(2) or ''}{m.group(3) or ''}{MASK}", text
    )
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _KEY_VALUE.sub(_mask_value, text)


def _mask_optional(text: str | None) -> str | None:
    return None if text is None else mask_secrets(text)


def mask_finding(finding: Finding) -> Finding:
    """The same finding with every free-text field masked (location and identity untouched)."""
    waived = finding.waived
    if waived is not None:
        waived = Waiver(waived.kind, mask_secrets(waived.reason), waived.by, waived.expires)
    return finding.with_(
        message=mask_secrets(finding.message),
        remediation=mask_secrets(finding.remediation),
        suggestion=_mask_optional(finding.suggestion),
        waived=waived,
    )


def mask_report(report: Report) -> Report:
    """A copy of ``report`` whose findings, notices and policy-change results are safe to show anywhere."""
    return dataclasses.replace(
        report,
        findings=[mask_finding(f) for f in report.findings],
        preexisting=[mask_finding(f) for f in report.preexisting],
        notices=[mask_secrets(n) for n in report.notices],
        policy_changes=mask_policy_changes(report.policy_changes),
    )


def mask_policy_changes(changes: list[dict[str, Any]], values: Collection[str] = ()) -> list[dict[str, Any]]:
    """Policy-change rows (file, test name, error) with credentials and ``values`` masked.

    A PR's policy test decides what its error says, so it is treated like any PR text.
    """
    return [
        {key: redact_values(mask_secrets(value), values) if isinstance(value, str) else value for key, value in row.items()}
        for row in changes
    ]


# Shorter values are too often ordinary words ("admin", "true") to cut out of every message;
# the credential patterns above still apply to them.
MIN_REDACTED_VALUE_LENGTH = 6


def secret_values(resources: Iterable[Resource]) -> frozenset[str]:
    """The literal values of every Secret's ``data`` (as written and decoded) and ``stringData``.

    Patterns cannot know that a policy message saying "value hunter2x is too short" quotes a
    Secret: the values themselves can. Multi-line values also count line by line.
    """
    found: set[str] = set()
    for resource in resources:
        if resource.kind != "Secret":
            continue
        for field_name in ("data", "stringData"):
            values = resource.obj.get(field_name)
            if not isinstance(values, dict):
                continue
            for value in values.values():
                if not isinstance(value, str):
                    continue
                found |= _forms(value)
                if field_name == "data":
                    found |= _forms(_decoded(value))
    return frozenset(v for v in found if len(v) >= MIN_REDACTED_VALUE_LENGTH)


def _forms(value: str) -> set[str]:
    lines = {line.strip() for line in value.splitlines()}
    return {value, value.strip(), *lines} - {""}


def _decoded(value: str) -> str:
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def redact_values(text: str, values: Collection[str]) -> str:
    """``text`` with every occurrence of one of ``values`` replaced by ``***`` (longest first)."""
    if not text or not values:
        return text
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_findings(findings: list[Finding], values: Collection[str]) -> list[Finding]:
    """Findings whose free text no longer quotes any of ``values`` (a policy echoing a Secret value)."""
    if not values:
        return findings

    def clean(f: Finding) -> Finding:
        redacted = f.with_(
            message=redact_values(f.message, values),
            remediation=redact_values(f.remediation, values),
            suggestion=None if f.suggestion is None else redact_values(f.suggestion, values),
        )
        return f if redacted == f else redacted

    return [clean(f) for f in findings]
