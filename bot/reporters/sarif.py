"""SARIF 2.1.0 for GitHub code scanning and other static-analysis dashboards."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import bot
from bot.core.findings import Finding, Severity
from bot.core.masking import mask_report
from bot.core.report import Report
from bot.reporters.paths import located
from bot.reporters.rule_docs import PROJECT_URI, SECURITY_SEVERITY, help_uri

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "gitops-policy-bot"
INFORMATION_URI = PROJECT_URI
# Code scanning matches alerts across runs by partialFingerprints; the key names our algorithm.
FINGERPRINT_KEY = "gitopsPolicyBot/v1"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}
# An annotation in the manifest waives in source; config exceptions and approvals live elsewhere.
SUPPRESSION_KINDS = {"annotation": "inSource"}


def fingerprint(finding: Finding) -> str:
    """Stable across runs and line shifts: rule, file, resource identity and message, not the line."""
    resource = "/".join(finding.resource.key()) if finding.resource else ""
    material = "\x1f".join((finding.rule, finding.file, resource, finding.message))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SarifReporter:
    base_dir: str = ""

    def render(self, report: Report) -> str:
        return json.dumps(self.sarif_log(report), indent=2, ensure_ascii=False) + "\n"

    def sarif_log(self, report: Report) -> dict[str, Any]:
        report = mask_report(report)
        findings = report.sorted_findings()
        rules = _rules(findings)
        index = {rule["id"]: i for i, rule in enumerate(rules)}
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": TOOL_NAME,
                    "version": bot.__version__,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [_invocation(report)],
            "results": [self._result(f, index[f.rule]) for f in findings],
        }
        return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}

    def _result(self, finding: Finding, rule_index: int) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": rule_index,
            "level": LEVELS[finding.severity],
            "message": {"text": finding.message or finding.rule},
        }
        location = self._location(finding)
        if location:
            result["locations"] = [location]
        result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding)}
        if finding.waived is not None:
            result["suppressions"] = [
                {
                    "kind": SUPPRESSION_KINDS.get(finding.waived.kind, "external"),
                    "status": "accepted",
                    "justification": finding.waived.reason,
                }
            ]
        properties = {"source": finding.source}
        if finding.path:
            properties["fieldPath"] = finding.path
        result["properties"] = properties
        return result

    def _location(self, finding: Finding) -> dict[str, Any]:
        location: dict[str, Any] = {}
        if finding.file:
            region: dict[str, int] = {"startLine": max(finding.line, 1)}  # SARIF lines start at 1
            if finding.column > 0:
                region["startColumn"] = finding.column
            location["physicalLocation"] = {
                "artifactLocation": {
                    "uri": quote(located(self.base_dir, finding.file), safe="/"),
                    "uriBaseId": "%SRCROOT%",
                },
                "region": region,
            }
        if finding.resource and finding.resource.kind:
            location["logicalLocations"] = [
                {
                    "name": finding.resource.name,
                    "fullyQualifiedName": finding.resource.display(),
                    "kind": "resource",
                }
            ]
        return location


def _rules(findings: list[Finding]) -> list[dict[str, Any]]:
    """One reportingDescriptor per rule id, at the rule's worst severity, help from its remediation."""
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    rules = []
    for rule_id in sorted(by_rule):
        group = by_rule[rule_id]
        worst = max(f.severity for f in group)
        remediation = next((f.remediation for f in group if f.remediation), "")
        descriptor: dict[str, Any] = {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {"text": f"{group[0].source} rule {rule_id}"},
            "defaultConfiguration": {"level": LEVELS[worst]},
            "properties": {"tags": ["kubernetes", group[0].source]},
        }
        if remediation:
            descriptor["help"] = {"text": remediation}
        uri = help_uri(rule_id)
        if uri:
            descriptor["helpUri"] = uri
        if rule_id in SECURITY_SEVERITY:
            descriptor["properties"]["tags"].append("security")
            descriptor["properties"]["security-severity"] = SECURITY_SEVERITY[rule_id]
        rules.append(descriptor)
    return rules


def _invocation(report: Report) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if report.notices:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": notice}} for notice in report.notices
        ]
    return invocation
