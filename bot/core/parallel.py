"""Whole-tree checks on every core, in bounded memory: chunks of files judged in worker processes, merged in order.

Each chunk is parsed, validated against schemas, judged by policies and settled in
one go, with what it needs of the other files: CRDs (files that can hold one are
found by a byte scan first), and Secret values for redaction (collected as chunks
finish). The inventory behind ``duplicate-object`` is collected as compact keys;
that rule is then judged for the duplicated objects only. When some other policy
may read ``data.gitops.inventory``, a first pass collects the keys before judging.
Chunks do not depend on the number of processes and results are merged in chunk
order, so the report is the same, byte for byte, whatever ``jobs`` is.

Chunks run `bot.core.evaluate`'s own stage functions, so both paths judge alike. The
duplicate rule sees, per file, the definitions of its deploy targets, as in `evaluate`.

What needs every object at once runs in one piece with `evaluate`, as before:
Gatekeeper templates or constraints in the tree (or ``gatekeeper.paths``), an
external schema or policy backend (they parallelise themselves), schema locations
(the catalog's fetcher stays in this process), another inventory reader when an
identity repeats (per-target inventories), and configs that stop the evaluation
early (invalid, unsupported Kubernetes version).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from bot.core.backends import OPA_SERVER_ENGINE
from bot.core.classify import Classifier
from bot.core.config import InvalidConfigError, RepoConfig
from bot.core.deploy_targets import find_deploy_targets, peer_files
from bot.core.evaluate import (
    EvalOptions,
    _load_config,
    evaluate,
    redact_report,
    schema_setup,
    settle_stage,
    symlink_notices,
)
from bot.core.findings import Finding
from bot.core.kustomization import kustomization_file_per_directory
from bot.core.kustomize import find_patch_files
from bot.core.manifests import load_workspace
from bot.core.rego.sources import builtin_sources, directory_sources, split_sources, workspace_sources
from bot.core.rendered_stage import NOT_RENDERED_NOTICE
from bot.core.report import Report
from bot.core.scope import load_limits, paths_to_check
from bot.core.tree_chunks import CHUNK_BYTES, ChunkJudge, ChunkVerdict, TreeJob, chunk_paths, worker_options
from bot.core.tree_facts import CRD_KIND, ChunkFacts, TreeFacts, other_inventory_readers, scan_tree
from bot.core.waivers import expired_exception_notices
from bot.core.workspace import Workspace
from bot.errors import ConfigError, GitOpsBotError

T = TypeVar("T")

# Workers fork from a server that imported the core once; regorus engines are built in each worker.
_PRELOAD = ["bot.core.tree_chunks"]


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0))


def evaluate_tree(
    head: Workspace,
    options: EvalOptions | None = None,
    *,
    jobs: int = 1,
    root: str | os.PathLike[str] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Report:
    """Judge every manifest of ``head``, like ``evaluate(head, options=options)``, in ``jobs`` processes.

    ``root``: the directory ``head`` lists, which worker processes read themselves; without it
    the check runs in this process. ``options.changed_paths`` must be None (a whole tree).
    ``chunk_bytes``: about how much of the tree one process holds parsed at a time.
    """
    options = options or EvalOptions()
    if options.changed_paths is not None:
        raise ValueError("evaluate_tree judges whole trees; use evaluate for changed paths")
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    today = options.today or dt.date.today()
    started = time.perf_counter()
    try:
        config = _load_config(head, options, today)
        setup = schema_setup(config, options)
    except (InvalidConfigError, ConfigError):
        return evaluate(head, options=options)  # reports the problem and stops early
    version, strict = setup.validator.kubernetes_version, setup.strict
    paths = paths_to_check(head, config, None)
    chunks = chunk_paths(head, paths, chunk_bytes)
    if not chunks or setup.catalog or _needs_one_piece(config, options, version, strict):
        return evaluate(head, options=options)
    has_kustomizations = bool(kustomization_file_per_directory(frozenset(head.paths)))
    if options.renderer is not None and (has_kustomizations or Classifier(head.paths).chart_dirs):
        # FALLBACK: kustomize roots and Helm releases are judged as rendered (`bot.core.rendered_stage`:
        # whole roots and their provenance), which chunks of files cannot reproduce. Without a renderer
        # they are judged as files, like `evaluate` does (with its notice, added in `_merged`).
        return evaluate(head, options=options)
    processes = min(jobs, len(chunks)) if root is not None else 1
    if processes > 1:
        _start_forkserver(processes)  # it imports the core while this process reads kustomizations and scans
    limits = load_limits(config)
    patch_files, kustomize_findings = find_patch_files(head, limits)
    job = TreeJob(
        root=str(Path(root).resolve()) if root is not None else "",  # workers may not share this cwd
        config=config,
        options=worker_options(options),
        limits=limits,
        patch_files=frozenset(patch_files),
        kubernetes_version=version,
        strict=strict,
        today=today,
    )
    scan = scan_tree(head, paths, job.limits.max_bytes)
    if scan.gatekeeper:
        return evaluate(head, options=options)  # possibly: the verdicts below say for sure
    with _Runner(job, head, processes) as run:
        inventory_first = options.policies and _other_inventory_readers(head, config, options)
        if inventory_first:  # a user policy may read any object's entry: collect them all first
            facts = TreeFacts.merge(run.facts(chunks))
            if any(len(definitions) > 1 for definitions in facts.inventory.values()):
                # FALLBACK: with a repeated identity, `evaluate` gives each deploy target its own inventory,
                # which chunks holding one tree-wide inventory cannot reproduce for an arbitrary reader.
                return evaluate(head, options=options)
        else:  # one pass: the duplicate rule is judged afterwards for the duplicated objects only
            crds = [r for r in load_workspace(head, scan.crd_files, job.limits, job.patch_files).resources if r.kind == CRD_KIND]
            head.forget(scan.crd_files)
            facts = TreeFacts({}, crds)
        verdicts = run.judge(chunks, facts)
        if any(v.facts.gatekeeper for v in verdicts):
            return evaluate(head, options=options)
        if not inventory_first and {c.file for v in verdicts for c in v.facts.crds} - set(scan.crd_files):
            merged = TreeFacts.merge([v.facts for v in verdicts])
            verdicts = run.judge(chunks, TreeFacts({}, merged.crds))  # never with a CRD missed
        duplicates: list[Finding] = []
        if options.policies and config.builtin_policies and not inventory_first:
            duplicates = run.duplicates(_duplicated(verdicts), chunk_bytes)
    in_scope = set(paths)
    run_findings = [*[f for f in kustomize_findings if f.file in in_scope], *setup.findings]
    report = _merged(verdicts, duplicates, run_findings, config, today, not_rendered=has_kustomizations)
    report.notices[:0] = symlink_notices(head, head, None)
    report.kubernetes_version = version
    report.files_checked = len(paths) - sum(len(v.skipped) for v in verdicts)
    report.timings = {"tree": round(time.perf_counter() - started, 4)}
    return report


def _other_inventory_readers(head: Workspace, config: RepoConfig, options: EvalOptions) -> bool:
    """Whether a policy besides the built-in duplicate rule may read ``data.gitops.inventory`` (yes when unsure)."""
    try:
        sources = [
            *(builtin_sources() if config.builtin_policies else ()),
            *workspace_sources(head, list(config.policy_dirs)),
            *directory_sources(list(options.extra_policy_dirs)),
        ]
    except GitOpsBotError:
        return True  # unreadable: the workers report it
    return other_inventory_readers(split_sources(sources)[0])


def _duplicated(verdicts: Sequence[ChunkVerdict]) -> dict[str, list[dict[str, object]]]:
    inventory = TreeFacts.merge([v.facts for v in verdicts]).inventory
    return {key: definitions for key, definitions in inventory.items() if len(definitions) > 1}


def _needs_one_piece(config: RepoConfig, options: EvalOptions, kubernetes_version: str, strict: bool) -> bool:
    gatekeeper = config.raw.get("gatekeeper") or {}
    if gatekeeper.get("enabled") is not False and gatekeeper.get("paths"):
        return True
    engine = options.engine or config.policy_engine
    if options.policies and engine == OPA_SERVER_ENGINE:
        return True
    backends = options.backends
    if backends is None:
        return False
    if backends.schema_backend(config, kubernetes_version, strict) is not None:
        return True
    return options.policies and backends.policy_backend(config, engine) is not None


def _merged(
    verdicts: Sequence[ChunkVerdict], duplicates: list[Finding], run_findings: list[Finding], config: RepoConfig, today: dt.date,
    *, not_rendered: bool = False,
) -> Report:
    """One report from the chunks' verdicts, in chunk order; per-run findings and notices are added once."""
    report = Report(config=config)
    first = verdicts[0] if verdicts else ChunkVerdict([], [], 0, ChunkFacts())
    findings = settle_stage([*run_findings, *first.run_findings], [], config, today, expiry_notices=False)
    for verdict in verdicts:
        findings += verdict.findings
        report.notices += [f"skipped {file}: {reason}" for file, reason in verdict.skipped]
        report.resources_checked += verdict.resources
    if not_rendered:
        report.notices.append(NOT_RENDERED_NOTICE)  # where `evaluate`'s render stage says it
    report.notices += first.run_notices
    findings += duplicates
    report.findings = findings + expired_exception_notices(config.exceptions, config.source, today)
    # Secrets never leave: a message in one file may quote a Secret's value from another.
    redact_report(report, frozenset().union(*(v.facts.secrets for v in verdicts)))
    return report


def _start_forkserver(processes: int) -> None:
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    try:
        forkserver.ensure_running()
    except OSError as e:
        raise _cannot_start(processes, e) from e


def _cannot_start(processes: int, error: OSError) -> ConfigError:
    """No /dev/shm, no processes left: say so rather than run on one core unasked."""
    return ConfigError(f"cannot start {processes} worker processes ({error.strerror or error}); use --jobs 1")


class _Runner:
    """Runs the passes over the chunks here (one process) or in one pool of workers for the whole run.

    A `ProcessPoolExecutor` rather than `multiprocessing.Pool`: a worker that dies (killed for
    memory, a crash in a native library) breaks the run with an error instead of hanging it.
    """

    def __init__(self, job: TreeJob, head: Workspace, processes: int):
        self.head = head
        self.local = ChunkJudge(job, head) if processes <= 1 else None
        self.pool: ProcessPoolExecutor | None = None
        self.processes = processes
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.passes = 0
        if self.local is None:
            _start_forkserver(processes)
            self.pool = ProcessPoolExecutor(
                processes, mp_context=mp.get_context("forkserver"), initializer=_start_worker, initargs=(job,)
            )

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=exc_type is not None)
        if self.tmp is not None:
            self.tmp.cleanup()

    def _map(self, task: Callable[[Any], T], items: list[Any]) -> list[T]:
        assert self.pool is not None
        try:
            return list(self.pool.map(task, items))
        except BrokenProcessPool as e:
            raise GitOpsBotError(
                f"a worker process of --jobs {self.processes} ended abruptly (out of memory?); "
                "try fewer jobs or --jobs 1"
            ) from e
        except OSError as e:
            raise _cannot_start(self.processes, e) from e

    def facts(self, chunks: list[list[str]]) -> list[ChunkFacts]:
        if self.local is not None:
            return [self.local.facts(chunk) for chunk in chunks]
        return self._map(_facts_task, chunks)

    def judge(self, chunks: list[list[str]], facts: TreeFacts) -> list[ChunkVerdict]:
        if self.local is not None:
            return [self.local.judge(chunk, facts) for chunk in chunks]
        # Written once and read once per worker, rather than pickled into every task; a new file per pass.
        if self.tmp is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="gitops-bot-facts-")
        self.passes += 1
        facts_file = str(Path(self.tmp.name, f"facts-{self.passes}.pickle"))
        with open(facts_file, "wb") as f:
            pickle.dump(facts, f, protocol=pickle.HIGHEST_PROTOCOL)
        return self._map(_judge_task, [(chunk, facts_file) for chunk in chunks])

    def duplicates(self, inventory: dict[str, list[dict[str, object]]], chunk_bytes: int) -> list[Finding]:
        """The duplicate rule's findings for the files that define a duplicated object, in file order.

        Each file is judged with the definitions of its deploy targets (`bot.core.deploy_targets`),
        as `evaluate` judges it: the same identity in two clusters' directories is no conflict.
        """
        files = sorted({str(d["file"]) for definitions in inventory.values() for d in definitions})
        if not files:
            return []
        groups, inventories = _scoped_inventories(inventory, peer_files(files, find_deploy_targets(self.head)))
        chunks = chunk_paths(self.head, files, chunk_bytes)
        tasks = []
        for chunk in chunks:
            used = {groups[f] for f in chunk}
            tasks.append((chunk, {f: groups[f] for f in chunk}, {g: inventories[g] for g in used}))
        if self.local is not None:
            found = [self.local.duplicates(*task) for task in tasks]
        else:
            found = self._map(_duplicates_task, tasks)
        return [f for part in found for f in part]


def _scoped_inventories(
    inventory: dict[str, list[dict[str, object]]], peers: dict[str, frozenset[str]]
) -> tuple[dict[str, int], dict[int, dict[str, list[dict[str, object]]]]]:
    """Each file's peer group, and each group's inventory: the definitions within the files applied with it."""
    ids: dict[frozenset[str], int] = {}
    groups = {file: ids.setdefault(files, len(ids)) for file, files in peers.items()}
    inventories = {
        group: {key: [d for d in definitions if d["file"] in files] for key, definitions in inventory.items()}
        for files, group in ids.items()
    }
    return groups, inventories


_worker: ChunkJudge | None = None


def _start_worker(job: TreeJob) -> None:
    global _worker
    _worker = ChunkJudge(job)


def _facts_task(chunk: list[str]) -> ChunkFacts:
    assert _worker is not None
    return _worker.facts(chunk)


def _judge_task(task: tuple[list[str], str]) -> ChunkVerdict:
    assert _worker is not None
    return _worker.judge(*task)


def _duplicates_task(task: tuple[list[str], dict[str, int], dict[int, dict[str, list[dict[str, object]]]]]) -> list[Finding]:
    assert _worker is not None
    return _worker.duplicates(*task)
