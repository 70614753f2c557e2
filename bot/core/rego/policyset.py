"""A compiled set of policies (built-in library + conftest-style user policies) and how it judges resources."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.findings import Finding, Severity
from bot.core.rego.engine import DEFAULT_ENGINE, RegoEngine
from bot.core.rego.engine_factory import make_engine
from bot.core.rego.inventory import INVENTORY_PATH, build_inventory
from bot.core.rego.metadata import RuleMetadata, parse_package_metadata
from bot.core.rego.parity import route_engine
from bot.core.rego.results import package_findings, policy_error_finding
from bot.core.rego.sources import (
    Source,
    builtin_sources,
    deep_merge,
    directory_sources,
    merge_data_files,
    split_sources,
    workspace_sources,
)
from bot.core.rego.targets import RuleTarget, combined_query, find_targets, package_documents, single_query
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.errors import PolicyError

BUILTIN_NAMESPACE = "gitops.builtin"


@dataclass
class PolicySet:
    """Built once per policy source (compiling is the slow part), then asked about any number of documents.

    ``evaluate`` swaps the inventory into the engine's data, so calls are serialised by a lock.
    """

    engine: RegoEngine
    namespaces: tuple[str, ...]
    data: dict[str, Any]
    metadata: dict[str, RuleMetadata]  # by package, for every package that has METADATA
    rules: list[RuleMetadata]  # the built-in rules, for docs and config validation
    targets: list[RuleTarget]  # the rules queried for each document
    _queries: dict[str, tuple[list[RuleTarget], str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _inventory_in_engine: object = field(default=None, repr=False)  # the inventory the engine's data holds now

    def targets_for(self, kind: str) -> tuple[list[RuleTarget], str]:
        """The rules that can fire on ``kind`` (METADATA ``custom.kinds``) and their combined query, cached."""
        if kind not in self._queries:
            targets = [t for t in self.targets if self._applies(t.package, kind)]
            self._queries[kind] = (targets, combined_query(targets))
        return self._queries[kind]

    def _applies(self, package: str, kind: str) -> bool:
        meta = self.metadata.get(package)
        return meta is None or not meta.kinds or kind in meta.kinds

    @classmethod
    def load(
        cls,
        sources: list[tuple[str, str]],
        *,
        namespaces: Sequence[str] = ("main",),
        data: dict[str, Any] | None = None,
        engine: str = DEFAULT_ENGINE,
        builtin: bool = True,
    ) -> PolicySet:
        """Compile ``sources`` ((filename, text): .rego modules and .json/.yaml data; tests are skipped).

        Raises PolicyError naming the file when a module does not compile.
        """
        modules, data_files = split_policy_sources(sources, builtin=builtin)
        rego = make_engine(route_engine(modules, engine))  # OPA where regorus would judge differently
        metadata = collect_metadata(modules, add_module=rego.add_module)
        rego.compile()
        base_data = merge_data_files(data_files, base=data)
        targets, rules = rule_targets(modules, namespaces, metadata)
        return cls(rego, tuple(namespaces), base_data, metadata, sorted(rules, key=lambda r: r.id), targets)

    @classmethod
    def from_directories(cls, dirs: Sequence[str | Path], **kw: Any) -> PolicySet:
        """Policies from the local file system (the CLI)."""
        return cls.load(directory_sources(dirs), **kw)

    @classmethod
    def from_workspace(cls, ws: Workspace, dirs: Sequence[str], **kw: Any) -> PolicySet:
        """Policies from a repository tree; the caller passes the trusted (base) side."""
        return cls.load(workspace_sources(ws, dirs), **kw)

    def evaluate(
        self,
        resources: Sequence[Resource],
        *,
        severity_overrides: Mapping[str, Severity | None] = {},
        peers: Sequence[Resource] | None = None,
        inventory: dict[str, list[dict[str, object]]] | None = None,
    ) -> list[Finding]:
        """Findings of every policy for every resource; kustomize patches are skipped (partial objects).

        ``peers`` are the objects applied together with ``resources`` (their deploy
        targets, see `bot.core.deploy_targets`): the inventory lists those; default ``resources``.
        ``inventory`` (`build_inventory` of more than ``resources``) lets a caller judge a tree in
        pieces: passing the same object again does not reload the engine's data.
        """
        targets = [r for r in resources if not r.is_patch]
        if not targets or not self.targets:
            return []
        findings: list[Finding] = []
        with self._lock:
            if inventory is None or inventory is not self._inventory_in_engine:
                known = targets if peers is None else [r for r in peers if not r.is_patch]
                facts = {INVENTORY_PATH[0]: {INVENTORY_PATH[1]: build_inventory(known) if inventory is None else inventory}}
                # Per-run facts win over any user data file that happens to use the same key.
                self.engine.set_data(deep_merge(without_inventory(self.data), facts))
                self._inventory_in_engine = inventory
            for batch in _batches_by_kind(targets):
                findings.extend(self._evaluate_batch(batch, severity_overrides))
        return findings

    def _evaluate_batch(self, batch: list[Resource], overrides: Mapping[str, Severity | None]) -> list[Finding]:
        """Documents of one kind in one engine call (``with input as``): the per-call cost dominates otherwise.

        Any engine error falls back to one call per document, which isolates the broken rule.
        """
        targets, query = self.targets_for(batch[0].kind)
        if not targets:
            return []
        if len(batch) > 1:
            try:
                rows = self.engine.evaluate(batch_query(query), {BATCH_KEY: [r.obj for r in batch]})
            except PolicyError:
                rows = None
            if isinstance(rows, list) and len(rows) == len(batch) and all(
                isinstance(v, list) and len(v) == len(targets) for v in rows
            ):
                findings: list[Finding] = []
                for resource, values in zip(batch, rows, strict=True):
                    findings.extend(self._findings_from(resource, targets, values, overrides))
                return findings
        return [f for resource in batch for f in self._evaluate_one(resource, overrides)]

    def _evaluate_one(self, resource: Resource, overrides: Mapping[str, Severity | None]) -> list[Finding]:
        targets, query = self.targets_for(resource.kind)
        if not targets:
            return []
        values = self._query_rules(resource, targets, query)
        return self._findings_from(resource, targets, values, overrides)

    def _findings_from(
        self, resource: Resource, targets: list[RuleTarget], values: list[Any], overrides: Mapping[str, Severity | None]
    ) -> list[Finding]:
        # A rule that failed is one error finding; the other rules of its package still report.
        broken = {t.package: v for t, v in zip(targets, values, strict=True) if isinstance(v, PolicyError)}
        findings = [policy_error_finding(resource, package, error) for package, error in broken.items()]
        for package, document in package_documents(targets, values).items():
            metadata = self.metadata.get(package)
            findings.extend(
                package_findings(package, document, resource, metadata=metadata, severity_overrides=overrides)
            )
        return findings

    def _query_rules(self, resource: Resource, targets: list[RuleTarget], query: str) -> list[Any]:
        """One engine call per document; on an error, retry rule by rule so one broken rule is isolated."""
        try:
            values = self.engine.evaluate(query, resource.obj)
            if isinstance(values, list) and len(values) == len(targets):
                return values
        except PolicyError:
            pass
        out: list[Any] = []
        for target in targets:
            try:
                out.append(self.engine.evaluate(single_query(target), resource.obj))
            except PolicyError as e:
                out.append(e)
        return out


BATCH_KEY = "__gitops_bot_documents"
BATCH_SIZE = 256


def batch_query(per_document_query: str) -> str:
    """Evaluate ``per_document_query`` once per document of the batch input, in order."""
    return f"[r | d := input.{BATCH_KEY}[_]; r := {per_document_query} with input as d]"


def _batches_by_kind(resources: Sequence[Resource]) -> list[list[Resource]]:
    by_kind: dict[str, list[Resource]] = {}
    for r in resources:
        by_kind.setdefault(r.kind, []).append(r)
    return [group[i : i + BATCH_SIZE] for group in by_kind.values() for i in range(0, len(group), BATCH_SIZE)]


def split_policy_sources(sources: Sequence[Source], *, builtin: bool) -> tuple[list[Source], list[Source]]:
    """(modules, data files) of ``sources``, after the built-in library when ``builtin``; tests are left out."""
    modules, _tests, data_files = split_sources([*(builtin_sources() if builtin else ()), *sources])
    return modules, data_files


def collect_metadata(
    modules: Sequence[Source], add_module: Callable[[str, str], None] | None = None
) -> dict[str, RuleMetadata]:
    """METADATA by package (the first module of a package wins); raises PolicyError naming the file.

    ``add_module`` (an engine's) sees each module before its METADATA is read, so a
    module that does not compile is reported as such, whichever problem comes first.
    """
    metadata: dict[str, RuleMetadata] = {}
    for filename, text in modules:
        if add_module is not None:
            add_module(filename, text)
        try:
            meta = parse_package_metadata(text)
        except PolicyError as e:
            raise PolicyError(f"compile {filename}: {e}") from None
        if meta is not None:
            metadata.setdefault(meta.package, meta)
    return metadata


def rule_targets(
    modules: Sequence[Source], namespaces: Sequence[str], metadata: dict[str, RuleMetadata]
) -> tuple[list[RuleTarget], list[RuleMetadata]]:
    """The rules queried per document (built-in rules and ``namespaces``) and the built-in rules.

    ``metadata`` gains each built-in rule's entry (an id even without METADATA), as findings need it.
    """
    wanted = set(namespaces)
    targets = find_targets(modules, lambda pkg: is_builtin_rule_package(pkg) or pkg in wanted)
    rule_packages = sorted({t.package for t in targets if is_builtin_rule_package(t.package)})
    rules = [builtin_rule(pkg, metadata.get(pkg)) for pkg in rule_packages]
    metadata.update((rule.package, rule) for rule in rules)
    return targets, rules


def is_builtin_rule_package(package: str) -> bool:
    return package.startswith(BUILTIN_NAMESPACE + ".")


def builtin_rule(package: str, meta: RuleMetadata | None) -> RuleMetadata:
    """Built-in rules without METADATA still get an id: the package's last segment in kebab-case."""
    fallback_id = package.rsplit(".", 1)[-1].replace("_", "-")
    if meta is None:
        return RuleMetadata(fallback_id, "", None, "", "", package)
    return (
        meta
        if meta.id
        else RuleMetadata(fallback_id, meta.title, meta.severity, meta.description, meta.remediation, package)
    )


def without_inventory(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without a user file's value at the inventory's key: per-run facts win."""
    gitops = data.get(INVENTORY_PATH[0])
    if not isinstance(gitops, dict) or INVENTORY_PATH[1] not in gitops:
        return data
    return {**data, INVENTORY_PATH[0]: {k: v for k, v in gitops.items() if k != INVENTORY_PATH[1]}}
