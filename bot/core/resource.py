"""One Kubernetes object with where it came from, down to the line of each field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.findings import Finding, ResourceRef, Severity

# A field path is a tuple of mapping keys (str) and sequence indexes (int):
# ("spec", "template", "spec", "containers", 0, "image").
FieldPath = tuple[str | int, ...]


def format_path(path: FieldPath) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_path(text: str) -> FieldPath:
    """Inverse of `format_path`; also accepts ``spec/containers/0/image`` and ``spec.containers.0.image``."""
    parts: list[str | int] = []
    text = text.strip().lstrip("$").lstrip(".").replace("/", ".")
    for chunk in text.split("."):
        if not chunk:
            continue
        while "[" in chunk:
            head, _, rest = chunk.partition("[")
            if head:
                parts.append(head)
            idx, _, chunk = rest.partition("]")
            parts.append(int(idx) if idx.lstrip("-").isdigit() else idx.strip("'\""))
        if chunk:
            parts.append(int(chunk) if chunk.isdigit() else chunk)
    return tuple(parts)


@dataclass
class Resource:
    obj: dict[str, Any]
    file: str  # path relative to the workspace root, with forward slashes
    doc_index: int = 0  # 0-based document index within the file
    line: int = 1  # 1-based line where the document (or List item) starts
    # (line, column), both 1-based, of each field's *key* (for sequence items: the item)
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    is_patch: bool = False  # a kustomize strategic-merge patch: a partial object

    @property
    def api_version(self) -> str:
        v = self.obj.get("apiVersion")
        return v if isinstance(v, str) else ""

    @property
    def kind(self) -> str:
        v = self.obj.get("kind")
        return v if isinstance(v, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        m = self.obj.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        n = self.metadata.get("name") or self.metadata.get("generateName") or ""
        return n if isinstance(n, str) else str(n)

    @property
    def namespace(self) -> str:
        n = self.metadata.get("namespace") or ""
        return n if isinstance(n, str) else str(n)

    @property
    def annotations(self) -> dict[str, Any]:
        a = self.metadata.get("annotations")
        return a if isinstance(a, dict) else {}

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.api_version, self.kind, self.namespace, self.name)

    def position(self, path: FieldPath) -> tuple[int, int]:
        """Line and column of ``path`` or of its nearest ancestor that exists; the document start otherwise."""
        p = tuple(path)
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), (self.line, 1))

    def line_of(self, path: FieldPath) -> int:
        return self.position(path)[0]


def finding_at(
    resource: Resource, path: FieldPath, *, rule: str, severity: Severity, message: str, source: str
) -> Finding:
    """A finding on the line and column of ``path`` (or its nearest existing parent) in ``resource``."""
    line, column = resource.position(path)
    return Finding(
        rule=rule,
        severity=severity,
        message=message,
        file=resource.file,
        line=line,
        column=column,
        source=source,
        resource=resource.ref if isinstance(resource.obj, dict) else None,
        path=format_path(path),
    )
