"""Plain data of a plan: roots, object diffs, secret key changes and risks; its JSON form is stable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.changes import ObjectKey
from bot.core.deploy_targets import Deployer as Deployer  # noqa: F401  (re-exported: plans name their deployers)

PLAN_VERSION = 1

# Operations of an object between base and head.
CREATE, UPDATE, DELETE, RENAME = "create", "update", "delete", "rename"

# What happened to a root.
RENDERED = "rendered"
NOT_RENDERED = "not-rendered"  # no kustomize binary: nothing could be built
REFUSED = "refused"  # unsafe input (remote base, exec plugin): nothing was run
FAILED = "failed"  # kustomize ran and failed, or timed out

KUSTOMIZE_ROOT, DIRECTORY_ROOT, HELM_ROOT = "kustomize", "directory", "helm"
HELM_NOT_RENDERED = "Helm chart: not rendered (the plan renders kustomizations and plain directories only)"


def key_display(key: ObjectKey) -> str:
    """``("apps", "Deployment", "prod", "web")`` -> ``Deployment prod/web``."""
    _, kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def key_json(key: ObjectKey) -> dict[str, str]:
    group, kind, namespace, name = key
    return {"group": group, "kind": kind, "namespace": namespace, "name": name}


@dataclass(frozen=True)
class SecretKeyChange:
    """One key of a Secret's data: which key and how big, never its value."""

    key: str
    change: str  # "added" | "removed" | "changed"
    before_bytes: int | None
    after_bytes: int | None

    def display(self) -> str:
        if self.change == "added":
            return f"`{self.key}` added ({self.after_bytes} bytes)"
        if self.change == "removed":
            return f"`{self.key}` removed (was {self.before_bytes} bytes)"
        return f"`{self.key}` changed ({self.before_bytes} → {self.after_bytes} bytes)"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "change": self.change,
            "beforeBytes": self.before_bytes,
            "afterBytes": self.after_bytes,
        }


@dataclass(frozen=True)
class Risk:
    """A change a reviewer should look at twice: a deletion that loses data, fewer replicas, new images, RBAC."""

    kind: str  # "deletion" | "replicas" | "image" | "rbac"
    root: str
    key: ObjectKey
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "root": self.root, "object": key_json(self.key), "message": self.message}


@dataclass
class ObjectDiff:
    operation: str  # create | update | delete | rename
    key: ObjectKey  # the object at head (at base for a delete)
    diff: str  # unified diff of the object's YAML, secrets redacted and masked
    previous_key: ObjectKey | None = None  # for a rename: the name at base
    secret_keys: list[SecretKeyChange] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "key": key_json(self.key),
            "previousKey": key_json(self.previous_key) if self.previous_key else None,
            "diff": self.diff,
            "secretKeys": [s.to_json() for s in self.secret_keys],
            "risks": [r.to_json() for r in self.risks],
        }


@dataclass
class RootPlan:
    """One kustomization or plain directory the change affects, rendered at base and at head."""

    path: str  # "" is the repository root
    kind: str  # kustomize | directory | helm
    status: str = RENDERED
    reason: str = ""  # why not rendered / refused / failed
    deployed_by: list[Deployer] = field(default_factory=list)
    objects: list[ObjectDiff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # parse problems in rendered output and the like

    @property
    def display_path(self) -> str:
        return self.path or "."

    def counts(self) -> dict[str, int]:
        ops = [o.operation for o in self.objects]
        return {op: ops.count(op) for op in (CREATE, UPDATE, DELETE, RENAME)}

    def counts_display(self) -> str:
        c = self.counts()
        text = f"+{c[CREATE]} ~{c[UPDATE] + c[RENAME]} -{c[DELETE]}"
        return text + (f" ({c[RENAME]} renamed)" if c[RENAME] else "")

    @property
    def risks(self) -> list[Risk]:
        return [r for o in self.objects for r in o.risks]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.display_path,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "deployedBy": [d.to_json() for d in self.deployed_by],
            "counts": self.counts(),
            "objects": [o.to_json() for o in self.objects],
            "notes": list(self.notes),
        }


@dataclass
class Plan:
    base: str = ""  # labels of the two sides, for the heading
    head: str = ""
    roots: list[RootPlan] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def risks(self) -> list[Risk]:
        return [r for root in self.roots for r in root.risks]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "base": self.base,
            "head": self.head,
            "roots": [r.to_json() for r in self.roots],
            "risks": [r.to_json() for r in self.risks],
            "notices": list(self.notices),
        }
