"""Waivers: annotations on a resource and exceptions in the config. Waived findings stay in the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.core.config import ExceptionRule, RepoConfig
from bot.core.findings import Finding, ResourceRef, Severity, Source, Waiver
from bot.core.resource import Resource

ANNOTATION_PREFIX = "gitops-bot.io/skip."
MIN_REASON_LENGTH = 3


def annotation_waivers(resource: Resource) -> tuple[dict[str, Waiver], list[Finding]]:
    """Rule id -> waiver from ``gitops-bot.io/skip.<rule-id>: "<reason>"``; a waiver without a reason is a finding."""
    waivers: dict[str, Waiver] = {}
    problems: list[Finding] = []
    for key, value in resource.annotations.items():
        if not isinstance(key, str) or not key.startswith(ANNOTATION_PREFIX):
            continue
        rule = key[len(ANNOTATION_PREFIX) :]
        reason = value.strip() if isinstance(value, str) else ""
        if len(reason) < MIN_REASON_LENGTH or reason.lower() in ("true", "yes", "skip"):
            problems.append(
                Finding(
                    rule="waiver/missing-reason",
                    severity=Severity.WARNING,
                    message=f'annotation {key} does not count: it needs a reason, e.g. {key}: "runs as root until ticket OPS-123"',
                    file=resource.file,
                    line=resource.line_of(("metadata", "annotations", key)),
                    source=Source.CONFIG,
                    resource=resource.ref,
                    path=f"metadata.annotations.{key}",
                    remediation="Write why the rule does not apply as the annotation's value.",
                )
            )
            continue
        waivers[rule] = Waiver(kind="annotation", reason=reason, by=key)
    return waivers, problems


def expired_exception_notices(exceptions: Iterable[ExceptionRule], config_file: str, today: dt.date) -> list[Finding]:
    return [
        Finding(
            rule="waiver/expired",
            severity=Severity.WARNING,
            message=(
                f"exception for rule {e.rule!r} expired on {e.expires.isoformat()} and no longer applies "
                f"(reason was: {e.reason})"
            ),
            file=config_file,
            line=e.line,
            source=Source.CONFIG,
            remediation="Fix the findings it covered, or extend `expires` with a new reason.",
        )
        for e in exceptions
        if e.expired(today) and e.expires is not None
    ]


def _waivable(f: Finding) -> bool:
    return f.waived is None and f.source != Source.PARSE and not f.rule.startswith(("waiver/", "config/"))


def waive_by_annotations(findings: Iterable[Finding], waivers: dict[str, Waiver]) -> list[Finding]:
    """Apply one resource's annotation waivers to that resource's findings (``skip.all`` waives every rule)."""
    if not waivers:
        return list(findings)
    out = []
    for f in findings:
        waiver = (waivers.get(f.rule) or waivers.get("all")) if _waivable(f) else None
        out.append(f.with_(waived=waiver) if waiver else f)
    return out


def waive_by_exceptions(findings: Iterable[Finding], exceptions: Iterable[ExceptionRule], today: dt.date) -> list[Finding]:
    live = [e for e in exceptions if not e.expired(today)]
    if not live:
        return list(findings)
    out = []
    for f in findings:
        match = next((e for e in live if e.matches(f)), None) if _waivable(f) else None
        out.append(f.with_(waived=match.waiver()) if match else f)
    return out


def apply_overrides(findings: Iterable[Finding], overrides: dict[str, Severity | None]) -> list[Finding]:
    """Config `rules:` re-levels or disables any rule id (schema and policy alike)."""
    out = []
    for f in findings:
        if f.rule in overrides:
            level = overrides[f.rule]
            if level is None:
                continue
            f = f.with_(severity=level)
        out.append(f)
    return out


def settle(
    findings: list[Finding], resources: Iterable[Resource], config: RepoConfig, today: dt.date, *, expiry_notices: bool = True
) -> list[Finding]:
    """The last stage: annotation waivers, config re-levels, config exceptions, expiry notices.

    ``expiry_notices=False``: a tree judged in pieces adds the (per-run) expiry notices once itself.
    """
    by_resource: dict[tuple[str, ResourceRef], dict[str, Waiver]] = {}
    out = list(findings)
    for resource in resources:
        waivers, problems = annotation_waivers(resource)
        out.extend(problems)
        if waivers:
            by_resource.setdefault((resource.file, resource.ref), {}).update(waivers)
    if by_resource:
        out = [
            waive_by_annotations([f], by_resource[(f.file, f.resource)])[0]
            if f.resource and (f.file, f.resource) in by_resource
            else f
            for f in out
        ]
    out = apply_overrides(out, config.rule_overrides)
    out = waive_by_exceptions(out, config.exceptions, today)
    return out + (expired_exception_notices(config.exceptions, config.source, today) if expiry_notices else [])
