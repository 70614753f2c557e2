"""One process's part of a whole-tree check: read a chunk of files, judge it, keep nothing but findings and compact facts.

``judge`` runs `bot.core.evaluate`'s stages on a chunk with what it needs of the rest of the tree
(`bot.core.tree_facts`); ``facts`` only collects those; ``duplicates`` judges the rule
that needs every object's identity once all are known (see `bot.core.parallel`). Parsed
resources never outlive their chunk, so memory follows the largest chunk, not the tree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.backends import PolicyEvaluator
from bot.core.config import RepoConfig
from bot.core.evaluate import (
    EvalOptions,
    load_policy_sets,
    policy_findings,
    schema_findings,
    schema_setup,
    settle_stage,
)
from bot.core.findings import Finding
from bot.core.manifests import LoadLimits, LoadResult
from bot.core.resource import Resource
from bot.core.schemas import SchemaValidator
from bot.core.scope import configured_crds, load_files
from bot.core.tree_facts import DUPLICATE_RULE, ChunkFacts, TreeFacts
from bot.core.workspace import Workspace

# About 250 typical documents: the policy engine's batches stay efficient (chunk size barely changes
# CPU time), processes share the work evenly, and a chunk's parsed form stays a few megabytes.
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class TreeJob:
    """What every process needs to judge chunks of one tree (sent once to each worker)."""

    root: str  # the directory workers read (in-process runs use the caller's Workspace)
    config: RepoConfig
    options: EvalOptions  # without callables or backends
    limits: LoadLimits
    patch_files: frozenset[str]
    kubernetes_version: str
    strict: bool
    today: dt.date


@dataclass
class ChunkVerdict:
    findings: list[Finding]
    skipped: list[tuple[str, str]]
    resources: int
    facts: ChunkFacts  # what the chunk really held: checks the caller's scans, feeds the duplicate rule
    run_findings: list[Finding] = field(default_factory=list)  # the same for every chunk (policies do not compile): reported once
    run_notices: list[str] = field(default_factory=list)  # the same for every chunk (engine parity): reported once


def chunk_paths(ws: Workspace, paths: Sequence[str], target_bytes: int = CHUNK_BYTES) -> list[list[str]]:
    """Consecutive runs of the sorted ``paths`` of about ``target_bytes`` each: the same for any number of processes."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path in sorted(paths):
        current.append(path)
        size += ws.size(path) or 0
        if size >= target_bytes:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


class ChunkJudge:
    """Judges chunks of one tree; schemas, CRDs and compiled policies are built once per process."""

    def __init__(self, job: TreeJob, head: Workspace | None = None):
        self.job = job
        self.head = head if head is not None else Workspace.from_directory(job.root)
        self._validator: SchemaValidator | None = None
        self._validator_facts: TreeFacts | None = None
        self._crd_findings: list[Finding] = []
        self._policies: tuple[Sequence[PolicyEvaluator], list[Finding], list[str]] | None = None
        self._facts: TreeFacts | None = None
        self._facts_file = ""

    def facts(self, paths: Sequence[str]) -> ChunkFacts:
        return ChunkFacts.of(self._load(paths).resources)

    def judge(self, paths: Sequence[str], facts: TreeFacts | str) -> ChunkVerdict:
        """Parse, schema, policy and settle findings of ``paths``, as `evaluate` gives them for these files.

        The stages are `bot.core.evaluate`'s own. ``facts`` is the whole tree's (or the pickle
        file holding it, read once per process).
        """
        facts = self._tree_facts(facts)
        job = self.job
        loaded = self._load(paths)
        validator = self._schema_validator(facts)
        in_chunk = set(paths)
        findings = list(loaded.findings)
        findings += [f for f in self._crd_findings if f.file in in_chunk]
        findings += schema_findings(validator, loaded.resources)
        run_findings: list[Finding] = []
        run_notices: list[str] = []
        if job.options.policies:
            policy_sets, run_findings, run_notices = self._policy_sets()
            # The duplicate rule sees facts.inventory: empty (judged afterwards by `duplicates`), or the whole tree's.
            findings += policy_findings(policy_sets, [(loaded.resources, None)], inventory=facts.inventory)
        findings = settle_stage(findings, loaded.resources, job.config, job.today, expiry_notices=False)
        return ChunkVerdict(
            findings, loaded.skipped, len(loaded.resources), ChunkFacts.of(loaded.resources), run_findings, run_notices
        )

    def duplicates(
        self, paths: Sequence[str], groups: dict[str, int], inventories: dict[int, dict[str, list[dict[str, object]]]]
    ) -> list[Finding]:
        """The built-in duplicate rule's findings (settled) for ``paths``, each file judged within its deploy targets.

        ``groups``: each file's peer group; ``inventories``: each group's inventory, of the duplicated
        keys only (the rule only reads its own object's entry).
        """
        policy_sets, _, _ = self._policy_sets()
        if not policy_sets:
            return []
        loaded = self._load(paths)
        by_group: dict[int, list[Resource]] = {}
        for resource in loaded.resources:
            by_group.setdefault(groups[resource.file], []).append(resource)
        findings = [
            f
            for group, judged in by_group.items()
            for f in policy_findings(policy_sets, [(judged, None)], inventory=inventories[group])
            if f.rule == DUPLICATE_RULE
        ]
        settled = settle_stage(findings, loaded.resources, self.job.config, self.job.today, expiry_notices=False)
        return [f for f in settled if f.rule == DUPLICATE_RULE]  # not the annotation problems the chunk already reported

    def _load(self, paths: Sequence[str]) -> LoadResult:
        try:
            return load_files(self.head, paths, self.job.limits, self.job.patch_files)
        finally:
            self.head.forget(paths)  # read once: the tree's bytes never pile up

    def _tree_facts(self, facts: TreeFacts | str) -> TreeFacts:
        if isinstance(facts, TreeFacts):
            return facts
        if self._facts is None or self._facts_file != facts:
            with open(facts, "rb") as f:  # written by this run's parent, never by a pull request
                self._facts = pickle.load(f)  # noqa: S301
            self._facts_file = facts
        assert self._facts is not None
        return self._facts

    def _schema_validator(self, facts: TreeFacts) -> SchemaValidator:
        if self._validator is None or self._validator_facts is not facts:  # a second judging pass has more CRDs
            job = self.job
            validator = schema_setup(job.config, job.options).validator  # the parent checked the version and catalog
            crds = list(facts.crds)
            crds += configured_crds(self.head, job.config, job.limits, exclude=_selected(self.head, job.config))
            self._crd_findings = validator.add_crds(crds)
            self._validator, self._validator_facts = validator, facts
        return self._validator

    def _policy_sets(self) -> tuple[Sequence[PolicyEvaluator], list[Finding], list[str]]:
        if self._policies is None:
            self._policies = load_policy_sets(self.head, self.job.config, self.job.options)
        return self._policies


def _selected(ws: Workspace, config: RepoConfig) -> set[str]:
    return {p for p in ws.paths if config.selects(p)}


def worker_options(options: EvalOptions) -> EvalOptions:
    """The options a worker process can receive: no edge backends, no schema catalog, no renderer (it holds
    a lock and a cache; chunks never render: a tree with kustomize roots and a renderer is judged in one
    piece, `bot.core.parallel`).

    A run with backends or a catalog in use is judged in one piece (`bot.core.parallel`).
    """
    return dataclasses.replace(options, backends=None, schema_catalog=None, renderer=None)
