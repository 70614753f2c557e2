"""Plain result types shared by every stage and every front door.

A broken file is a finding, not an exception: the evaluation always ends
in a `Report` (`bot.core.report`), and reporters only ever read these types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered so the worst wins: ``max(severities)`` is the verdict."""

    NOTICE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}: expected error, warning or notice") from None


class Source:
    """Where a finding came from (a str enum kept as plain strings for JSON)."""

    PARSE = "parse"
    SCHEMA = "schema"
    POLICY = "policy"
    CONFIG = "config"


@dataclass(frozen=True)
class ResourceRef:
    """The identity of a Kubernetes object, as reported."""

    api_version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def group(self) -> str:
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    def key(self) -> tuple[str, str, str, str]:
        """Identity used for duplicates and plans: group/kind/namespace/name (version ignored)."""
        return (self.group, self.kind, self.namespace, self.name)

    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}" if self.kind else ""

    def to_json(self) -> dict[str, str]:
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(frozen=True)
class Waiver:
    """Why a finding does not count: an annotation, a config exception or an approval."""

    kind: str  # "annotation" | "exception" | "approval"
    reason: str
    by: str = ""
    expires: str = ""

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    source: str = Source.POLICY
    resource: ResourceRef | None = None
    path: str = ""  # dotted field path, e.g. spec.template.spec.containers[0].image
    suggestion: str | None = None  # replacement text for the line, for suggested changes
    remediation: str = ""  # how to fix, in one or two sentences
    waived: Waiver | None = None

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR and self.waived is None

    def with_(self, **changes: Any) -> Finding:
        return dataclasses.replace(self, **changes)

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.file, self.line, self.column, -int(self.severity), self.rule, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "source": self.source,
            "resource": self.resource.to_json() if self.resource else None,
            "path": self.path,
            "remediation": self.remediation,
            "suggestion": self.suggestion,
            "waived": self.waived.to_json() if self.waived else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """The inverse of `to_json` (a sandboxed child answers in JSON, never pickle)."""
        ref, waived = data.get("resource"), data.get("waived")
        return cls(
            rule=str(data["rule"]),
            severity=Severity.parse(str(data["severity"])),
            message=str(data["message"]),
            file=str(data.get("file") or ""),
            line=int(data.get("line") or 0),
            column=int(data.get("column") or 0),
            source=str(data.get("source") or Source.POLICY),
            resource=ResourceRef(ref["apiVersion"], ref["kind"], ref["namespace"], ref["name"]) if ref else None,
            path=str(data.get("path") or ""),
            suggestion=data.get("suggestion"),
            remediation=str(data.get("remediation") or ""),
            waived=Waiver(**waived) if waived else None,
        )
