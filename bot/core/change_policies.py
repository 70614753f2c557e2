"""Change-aware policies (package `gitops.change`): rules that judge what a change does to each object.

Each created, updated or deleted object is one input
``{"operation", "before", "after", "file", "pull_request"}``, so a rule can say
"deleting a PersistentVolumeClaim needs approval" or "replicas may not drop by
more than half". Rules answer with ``deny``/``warn`` like any conftest rule and
their answers become findings through the same mapping (`package_findings`).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.changes import DELETE, ObjectChange, pair_objects
from bot.core.config import RepoConfig
from bot.core.findings import Finding, Severity, Source
from bot.core.rego.engine import DEFAULT_ENGINE, package_of
from bot.core.rego.policyset import PolicySet
from bot.core.rego.results import package_findings, policy_error_finding
from bot.core.rego.sources import Source as PolicySource
from bot.core.rego.sources import builtin_sources, directory_sources, split_sources, workspace_sources
from bot.core.rego.targets import RuleTarget, combined_query, find_targets, package_documents, single_query
from bot.core.resource import Resource
from bot.core.thread_cache import ThreadLocalCache
from bot.core.workspace import Workspace
from bot.errors import PolicyError

DEFAULT_CHANGE_NAMESPACES = ("gitops.change",)
BUILTIN_CHANGE_NAMESPACE = "gitops.change.builtin"
# Built-in modules the change set compiles: the rules and the helper libraries (gitops.lib.change,
# gitops.lib.semver, gitops.lib.kubernetes); never the per-document rules.
_BUILTIN_CHANGE_PREFIXES = (BUILTIN_CHANGE_NAMESPACE + ".", "gitops.lib.")


def pull_request_facts(pull_request: Mapping[str, Any] | None) -> dict[str, Any]:
    """Always the same shape, so a rule can test ``"x" in input.pull_request.labels`` without guards.

    Labels may come as names or as GitHub label objects (``{"name": ...}``).
    """
    pr = pull_request or {}
    labels = [label.get("name") if isinstance(label, Mapping) else label for label in pr.get("labels") or ()]
    return {
        "author": str(pr.get("author") or ""),
        "labels": sorted({label for label in labels if isinstance(label, str) and label}),
        "base_ref": str(pr.get("base_ref") or ""),
    }


def change_input(change: ObjectChange, pull_request: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``input`` document one change-aware rule sees for one object."""
    return {
        "operation": change.operation,
        "before": change.before.obj if change.before else None,
        "after": change.after.obj if change.after else None,
        "file": change.current.file,
        "pull_request": pull_request_facts(pull_request),
    }


@dataclass
class ChangePolicySet:
    """Compiled change-aware rules: the built-in ``gitops.change.builtin.*`` packages plus the configured namespaces.

    Compilation, METADATA and data files come from `PolicySet.load`; this class only chooses
    which rules to query and builds the per-change input. Calls are serialised by a lock.
    """

    policy_set: PolicySet
    targets: list[RuleTarget]
    _query: str = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._query = combined_query(self.targets)

    @classmethod
    def load(
        cls,
        sources: Sequence[PolicySource],
        *,
        namespaces: Sequence[str] = DEFAULT_CHANGE_NAMESPACES,
        engine: str = DEFAULT_ENGINE,
        builtin: bool = True,
    ) -> ChangePolicySet:
        """Compile ``sources`` (and the built-in change rules unless ``builtin`` is False); raises PolicyError."""
        all_sources = [*(builtin_change_sources() if builtin else ()), *sources]
        compiled = PolicySet.load(all_sources, namespaces=(), engine=engine, builtin=False)
        modules, _tests, _data = split_sources(all_sources)
        wanted = set(namespaces)
        targets = find_targets(
            modules, lambda pkg: pkg in wanted or (builtin and pkg.startswith(BUILTIN_CHANGE_NAMESPACE + "."))
        )
        return cls(compiled, targets)

    def evaluate(
        self,
        changes: Iterable[ObjectChange],
        pull_request: Mapping[str, Any] | None = None,
        *,
        head_files: Collection[str] = (),
    ) -> list[Finding]:
        """Findings of every change-aware rule for every change, at the lines of the object's after side.

        A deleted object is reported in its base file, its message saying so; when that file still
        exists at head (``head_files``), the base line would point at unrelated head content, so the
        finding keeps it in the message only (line 0: the file, not a line).
        """
        changes = list(changes)
        if not changes or not self.targets:
            return []
        kept = set(head_files)
        findings: list[Finding] = []
        with self._lock:
            self.policy_set.engine.set_data(self.policy_set.data)
            for change in changes:
                found = self._evaluate_one(change, change_input(change, pull_request))
                if change.operation == DELETE:
                    found = [_mark_deleted(f, still_in_head=f.file in kept) for f in found]
                findings.extend(found)
        return findings

    def _evaluate_one(self, change: ObjectChange, document: dict[str, Any]) -> list[Finding]:
        resource = change.current
        values = self._query_rules(document)
        findings = [
            policy_error_finding(resource, t.package, v, subject="change")
            for t, v in zip(self.targets, values, strict=True)
            if isinstance(v, PolicyError)
        ]
        for package, answer in package_documents(self.targets, values).items():
            metadata = self.policy_set.metadata.get(package)
            findings.extend(package_findings(package, answer, resource, metadata=metadata, severity_overrides={}))
        return findings

    def _query_rules(self, document: dict[str, Any]) -> list[Any]:
        """One engine call per change; on an error, rule by rule so one broken rule is isolated."""
        engine = self.policy_set.engine
        try:
            values = engine.evaluate(self._query, document)
            if isinstance(values, list) and len(values) == len(self.targets):
                return values
        except PolicyError:
            pass
        out: list[Any] = []
        for target in self.targets:
            try:
                out.append(engine.evaluate(single_query(target), document))
            except PolicyError as e:
                out.append(e)
        return out


@functools.cache
def builtin_change_sources() -> tuple[PolicySource, ...]:
    """The built-in change rules and the helper libraries they import (not the per-document rules)."""
    return tuple(
        (name, text)
        for name, text in builtin_sources()
        if name.endswith(".rego") and package_of(text).startswith(_BUILTIN_CHANGE_PREFIXES)
    )


_COMPILED: ThreadLocalCache[ChangePolicySet] = ThreadLocalCache(32)  # per thread: regorus engines are unsendable


def load_change_policies(
    trusted: Workspace, config: RepoConfig, extra_dirs: Sequence[str] = (), *, engine: str | None = None
) -> list[ChangePolicySet]:
    """Change policy sets for one evaluation, compiled once per thread and source content.

    Like `bot.core.policy_loader.load_policies`: the trusted tree's policy directories (with the
    built-in rules) form one set, local ``extra_dirs`` another. Raises PolicyError when one does not compile.
    """
    engine = engine or config.policy_engine or DEFAULT_ENGINE
    namespaces = tuple(config.change_namespaces)
    repo_sources = workspace_sources(trusted, config.policy_dirs) if config.policy_dirs else []
    key = ("change", engine, namespaces, config.builtin_policies, _fingerprint(repo_sources))
    sets = [_COMPILED.get(key, lambda: ChangePolicySet.load(
        repo_sources, namespaces=namespaces, engine=engine, builtin=config.builtin_policies
    ))]
    if extra_dirs:
        extra = directory_sources(list(extra_dirs))
        sets.append(ChangePolicySet.load(extra, namespaces=namespaces, engine=engine, builtin=False))
    return sets


def check_changes(
    before: Sequence[Resource],
    after: Sequence[Resource],
    policy_sets: Sequence[ChangePolicySet],
    pull_request: Mapping[str, Any] | None = None,
    *,
    head_files: Collection[str] = (),
) -> list[Finding]:
    """Pair base and head objects of the changed files and judge each change with every set.

    ``head_files``: files that still exist at head. A deleted object's base line means nothing
    there, so its findings keep the line in the message only (line 0: annotate the file, not a line).
    """
    changes = pair_objects(before, after)
    return [
        f for policy_set in policy_sets for f in policy_set.evaluate(changes, pull_request, head_files=head_files)
    ]


def judge_changes(
    trusted: Workspace,
    config: RepoConfig,
    before: Sequence[Resource],
    after: Sequence[Resource],
    *,
    extra_dirs: Sequence[str] = (),
    engine: str | None = None,
    pull_request: Mapping[str, Any] | None = None,
    head_files: Collection[str] = (),
) -> list[Finding]:
    """The evaluation stage: load the trusted change policies and judge every change.

    A change policy that does not compile is one config finding, so the per-document findings stand.
    """
    try:
        policy_sets = load_change_policies(trusted, config, extra_dirs, engine=engine)
    except PolicyError as e:
        return [
            Finding(
                rule="config/invalid",
                severity=Severity.ERROR,
                message=f"the repository's change policies do not compile: {e}",
                file=config.source,
                source=Source.CONFIG,
                remediation="Fix the Rego the message names; `gitops-bot test-policies DIR` shows the same error.",
            )
        ]
    return check_changes(before, after, policy_sets, pull_request, head_files=head_files)


def _mark_deleted(finding: Finding, *, still_in_head: bool) -> Finding:
    where = f"line {finding.line} of {finding.file} at the base" if finding.line else f"{finding.file} at the base"
    marked = finding.with_(message=f"{finding.message} (deleted in this change; {where})")
    return marked.with_(line=0, column=0) if still_in_head else marked


def _fingerprint(sources: Sequence[PolicySource]) -> str:
    digest = hashlib.sha256()
    for name, text in sources:
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


