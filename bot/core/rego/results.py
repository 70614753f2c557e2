"""Turn the value of one policy package (its deny/violation/warn sets) into findings, as conftest does."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.findings import Finding, Severity, Source, Waiver
from bot.core.rego.metadata import RuleMetadata
from bot.core.resource import FieldPath, Resource, format_path, parse_path

# conftest's own patterns (policy/engine.go): deny, deny_x, violation_x_y, warn, warn_x.
_FAILURE_RE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
_WARNING_RE = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
_SEVERITY_PREFIX_RE = re.compile(r"^(deny|warn|violation)_")
EXCEPTION_WAIVER = Waiver(kind="exception", reason="policy exception")


def is_policy_rule(name: str) -> bool:
    return bool(_FAILURE_RE.match(name) or _WARNING_RE.match(name))


def default_severity(rule_name: str) -> Severity:
    return Severity.WARNING if _WARNING_RE.match(rule_name) else Severity.ERROR


def exception_name(rule_name: str) -> str:
    """The name ``exception`` rules list for a rule: ``deny_foo`` -> ``foo``, plain ``deny`` -> ``""``."""
    if rule_name in ("deny", "violation", "warn"):
        return ""
    return _SEVERITY_PREFIX_RE.sub("", rule_name)


@dataclass(frozen=True)
class PolicyResult:
    """One member of a deny/warn set, whatever shape the policy gave it."""

    message: str
    path: FieldPath | None = None
    rule: str = ""
    suggestion: str | None = None


def normalise_result(value: Any) -> PolicyResult:
    """Strings and ``{"msg": ...}`` objects are the contract; anything else is reported, never fatal."""
    if isinstance(value, str):
        return PolicyResult(message=value)
    if isinstance(value, dict):
        msg = value.get("msg", value.get("message"))
        message = msg if isinstance(msg, str) else _stringified(value, "result without a string msg")
        rule = value.get("rule", value.get("id"))
        return PolicyResult(
            message=message,
            path=_field_path(value.get("path")),
            rule=rule if isinstance(rule, str) else "",
            suggestion=_suggestion(value.get("suggestion")),
        )
    return PolicyResult(message=_stringified(value, f"{type(value).__name__} result"))


def package_findings(
    package: str,
    document: Any,
    resource: Resource,
    *,
    metadata: RuleMetadata | None,
    severity_overrides: Mapping[str, Severity | None],
) -> list[Finding]:
    """Findings of every deny/violation/warn rule in one package's value for one document."""
    if not isinstance(document, dict):
        return []
    excepted = _exception_names(document.get("exception"))
    findings: list[Finding] = []
    for rule_name in sorted(k for k in document if is_policy_rule(k)):
        waiver = EXCEPTION_WAIVER if exception_name(rule_name) in excepted else None
        for raw in _members(document[rule_name]):
            result = normalise_result(raw)
            rule_id = result.rule or (metadata.id if metadata and metadata.id else f"{package}.{rule_name}")
            if rule_id in severity_overrides:
                severity = severity_overrides[rule_id]
                if severity is None:
                    continue  # disabled by configuration
            else:
                severity = (metadata.severity if metadata else None) or default_severity(rule_name)
            findings.append(_finding(resource, result, rule_id, severity, metadata, waiver))
    return findings


def _finding(
    resource: Resource,
    result: PolicyResult,
    rule_id: str,
    severity: Severity,
    metadata: RuleMetadata | None,
    waiver: Waiver | None,
) -> Finding:
    if result.path is not None:
        line, column = resource.position(result.path)
    elif ("metadata", "name") in resource.positions:
        line, column = resource.positions[("metadata", "name")]
    else:
        line, column = resource.line, 0
    return Finding(
        rule=rule_id,
        severity=severity,
        message=result.message,
        file=resource.file,
        line=line,
        column=column,
        source=Source.POLICY,
        resource=resource.ref,
        path=format_path(result.path) if result.path else "",
        suggestion=result.suggestion,
        remediation=metadata.remediation if metadata else "",
        waived=waiver,
    )


def _members(value: Any) -> list[Any]:
    """A partial set arrives as a list; a complete rule (``deny := "x"``) as one value; false means none."""
    if value is None or value is False:
        return []
    return list(value) if isinstance(value, list) else [value]


def _exception_names(value: Any) -> set[str]:
    """``exception contains rules if {...; rules := ["foo"]}`` gives a set of lists of rule names."""
    names: set[str] = set()
    for entry in value if isinstance(value, list) else []:
        for name in entry if isinstance(entry, list) else [entry]:
            if isinstance(name, str):
                names.add(name)
    return names


def _field_path(value: Any) -> FieldPath | None:
    if isinstance(value, str) and value.strip():
        return parse_path(value)
    if isinstance(value, list) and value:
        return tuple(
            int(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else str(p) for p in value
        )
    return None


def _suggestion(value: Any) -> str | None:
    """Replacement text for the line: a string, or an object carrying it under ``replacement``/``text``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("replacement", "text", "line"):
            text = value.get(key)
            if isinstance(text, str):
                return text
    return None


def _stringified(value: Any, what: str) -> str:
    return f"{json.dumps(value, sort_keys=True, default=str)} (policy returned a {what})"


POLICY_ERROR_RULE = "policy-error"


def policy_error_finding(resource: Resource, package: str, error: Exception, *, subject: str = "document") -> Finding:
    """A rule that fails at run time is one blocking finding; the other rules still report."""
    what = "change policy" if subject == "change" else "policy"
    return Finding(
        rule=POLICY_ERROR_RULE,
        severity=Severity.ERROR,
        message=f"{what} package {package} could not be evaluated for this {subject}: {error}",
        file=resource.file,
        line=resource.line,
        source=Source.POLICY,
        resource=resource.ref,
    )
