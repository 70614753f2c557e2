"""One process's part of a whole-tree check: read a chunk of files, judge it, keep nothing but findings and compact facts.

A whole-tree check runs two passes over the same chunks (see `bot.core.parallel`):
``facts`` keeps only what cross-object rules need (inventory keys, CRDs, Secret values),
``judge`` validates and evaluates a chunk with the facts of the whole tree. Parsed
resources never outlive their chunk, so memory follows the largest chunk, not the tree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.config import RepoConfig
from bot.core.evaluate import EvalOptions
from bot.core.findings import Finding
from bot.core.gatekeeper.expansion import EXPANSION_GROUP
from bot.core.gatekeeper.objects import CONSTRAINTS_GROUP, TEMPLATES_GROUP
from bot.core.manifests import LoadLimits, load_workspace
from bot.core.masking import secret_values
from bot.core.policy_loader import load_policies
from bot.core.rego.inventory import inventory_key
from bot.core.rego.policyset import PolicySet
from bot.core.resource import Resource
from bot.core.schemas import SchemaValidator
from bot.core.scope import configured_crds
from bot.core.waivers import settle
from bot.core.workspace import Workspace
from bot.errors import PolicyError

GATEKEEPER_GROUPS = frozenset({TEMPLATES_GROUP, CONSTRAINTS_GROUP, EXPANSION_GROUP})
# About 1,000 documents of typical manifests: big enough for the policy engine's batches, small
# enough that a chunk's parsed form (a few times its bytes) stays a few megabytes.
CHUNK_BYTES = 512 * 1024


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
class ChunkFacts:
    """The cross-object facts of one chunk, compact: no parsed object survives except CRDs."""

    inventory: list[tuple[str, str, int]] = field(default_factory=list)  # (key, file, line) per non-patch object
    crds: list[Resource] = field(default_factory=list)
    secrets: frozenset[str] = frozenset()
    gatekeeper: bool = False  # a Gatekeeper template, constraint or expansion template is among the objects


@dataclass
class TreeFacts:
    """The facts of the whole tree that every chunk is judged with."""

    inventory: dict[str, list[dict[str, object]]]
    crds: list[Resource]

    @classmethod
    def merge(cls, chunks: Sequence[ChunkFacts]) -> TreeFacts:
        """In chunk order, so the inventory lists definitions in the order a one-piece load would."""
        inventory: dict[str, list[dict[str, object]]] = {}
        for chunk in chunks:
            for key, file, line in chunk.inventory:
                inventory.setdefault(key, []).append({"file": file, "line": line})
        return cls(inventory, [crd for chunk in chunks for crd in chunk.crds])


@dataclass
class ChunkVerdict:
    findings: list[Finding]
    skipped: list[tuple[str, str]]
    resources: int
    policy_error: str = ""  # the trusted policies do not compile (the caller reports it once)


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
        self._crd_findings: list[Finding] = []
        self._policies: tuple[list[PolicySet], str] | None = None
        self._facts: TreeFacts | None = None
        self._facts_file = ""

    def facts(self, paths: Sequence[str]) -> ChunkFacts:
        resources = self._load(paths).resources
        return ChunkFacts(
            inventory=[(inventory_key(r.ref), r.file, r.line) for r in resources if not r.is_patch],
            crds=[r for r in resources if r.kind == "CustomResourceDefinition"],
            secrets=secret_values(resources),
            gatekeeper=any(r.ref.group in GATEKEEPER_GROUPS for r in resources),
        )

    def judge(self, paths: Sequence[str], facts: TreeFacts | str) -> ChunkVerdict:
        """Parse, schema, policy and settle findings of ``paths``, as `evaluate` gives them for these files.

        ``facts`` is the whole tree's (or the pickle file holding it, read once per process).
        """
        facts = self._tree_facts(facts)
        job = self.job
        loaded = self._load(paths)
        validator = self._schema_validator(facts)
        in_chunk = set(paths)
        findings = list(loaded.findings)
        findings += [f for f in self._crd_findings if f.file in in_chunk]
        for resource in loaded.resources:
            findings += validator.validate(resource)
        policy_error = ""
        if job.options.policies:
            policy_sets, policy_error = self._policy_sets()
            for policy_set in policy_sets:
                findings += policy_set.evaluate(loaded.resources, inventory=facts.inventory)
        findings = settle(findings, loaded.resources, job.config, job.today, expiry_notices=False)
        return ChunkVerdict(findings, loaded.skipped, len(loaded.resources), policy_error)

    def _load(self, paths: Sequence[str]):  # type: ignore[no-untyped-def]
        try:
            return load_workspace(self.head, paths, self.job.limits, patch_files=self.job.patch_files)
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
        if self._validator is None:
            job = self.job
            validator = SchemaValidator(job.kubernetes_version, strict=job.strict, unknown_kinds=job.config.unknown_kinds)
            crds = list(facts.crds)
            crds += configured_crds(self.head, job.config, job.limits, exclude=_selected(self.head, job.config))
            self._crd_findings = validator.add_crds(crds)
            self._validator = validator
        return self._validator

    def _policy_sets(self) -> tuple[list[PolicySet], str]:
        if self._policies is None:
            job = self.job
            try:
                self._policies = (load_policies(self.head, job.config, job.options.extra_policy_dirs, engine=job.options.engine), "")
            except PolicyError as e:
                self._policies = ([], str(e))
        return self._policies


def _selected(ws: Workspace, config: RepoConfig) -> set[str]:
    return {p for p in ws.paths if config.selects(p)}


def worker_options(options: EvalOptions) -> EvalOptions:
    """The options a worker process can receive: no progress callback, no edge backends."""
    return dataclasses.replace(options, progress=None, backends=None)
