"""Whole-tree checks on every core, in bounded memory: chunks of files judged in worker processes, merged in order.

Two passes over the same chunks: the first collects what cross-object rules need
(inventory keys for ``duplicate-object`` and ``data.gitops.inventory``, CRDs, Secret
values) and the second judges each chunk with the facts of the whole tree. Chunks
do not depend on the number of processes and results are merged in chunk order, so
the report is the same, byte for byte, whatever ``jobs`` is.

What needs every object at once runs in one piece with `evaluate`, as before:
Gatekeeper templates or constraints in the tree (or ``gatekeeper.paths``), an
external schema or policy backend (they parallelise themselves), and configs that
stop the evaluation early (invalid, unsupported Kubernetes version).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import pickle
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot.core.backends import OPA_SERVER_ENGINE
from bot.core.config import InvalidConfigError, RepoConfig
from bot.core.evaluate import EvalOptions, _config_finding, _load_config, evaluate
from bot.core.findings import Finding, Report
from bot.core.kustomize import find_patch_files
from bot.core.masking import redact_findings
from bot.core.schemas import DEFAULT_KUBERNETES_VERSION, SchemaValidator
from bot.core.scope import load_limits, paths_to_check
from bot.core.tree_chunks import (
    CHUNK_BYTES,
    ChunkFacts,
    ChunkJudge,
    ChunkVerdict,
    TreeFacts,
    TreeJob,
    chunk_paths,
    worker_options,
)
from bot.core.waivers import expired_exception_notices, settle
from bot.core.workspace import Workspace
from bot.errors import ConfigError

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
        version = options.kubernetes_version or config.kubernetes_version or DEFAULT_KUBERNETES_VERSION
        strict = config.strict if options.strict is None else options.strict
        validator = SchemaValidator(version, strict=strict, unknown_kinds=config.unknown_kinds)
    except (InvalidConfigError, ConfigError):
        return evaluate(head, options=options)  # reports the problem and stops early
    paths = paths_to_check(head, config, None)
    chunks = chunk_paths(head, paths, chunk_bytes)
    if not chunks or _needs_one_piece(config, options, validator.kubernetes_version, strict):
        return evaluate(head, options=options)
    patch_files, kustomize_findings = find_patch_files(head)
    job = TreeJob(
        root=str(root or ""),
        config=config,
        options=worker_options(options),
        limits=load_limits(config),
        patch_files=frozenset(patch_files),
        kubernetes_version=validator.kubernetes_version,
        strict=strict,
        today=today,
    )
    processes = min(jobs, len(chunks)) if root is not None else 1
    with _Runner(job, head, processes) as run:
        chunk_facts = run.facts(chunks)
        if any(c.gatekeeper for c in chunk_facts):
            return evaluate(head, options=options)
        facts_done = time.perf_counter()
        verdicts = run.judge(chunks, TreeFacts.merge(chunk_facts))
    secrets = frozenset().union(*(c.secrets for c in chunk_facts))
    in_scope = set(paths)
    report = _merged(
        verdicts, [f for f in kustomize_findings if f.file in in_scope], secrets, config, today
    )
    report.kubernetes_version = validator.kubernetes_version
    report.files_checked = len(paths) - sum(len(v.skipped) for v in verdicts)
    report.timings = {"facts": round(facts_done - started, 4), "judge": round(time.perf_counter() - facts_done, 4)}
    if options.progress:
        options.progress(report.resources_checked, report.resources_checked)
    return report


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
    verdicts: Sequence[ChunkVerdict], kustomize: list[Finding], secrets: frozenset[str], config: RepoConfig, today: dt.date
) -> Report:
    """One report from the chunks' verdicts, in chunk order; per-run findings are added once."""
    report = Report(config=config)
    findings = settle(kustomize, [], config, today, expiry_notices=False)
    for verdict in verdicts:
        findings += verdict.findings
        report.notices += [f"skipped {file}: {reason}" for file, reason in verdict.skipped]
        report.resources_checked += verdict.resources
    policy_error = next((v.policy_error for v in verdicts if v.policy_error), "")
    if policy_error:
        problem = _config_finding(f"the repository's policies do not compile: {policy_error}", config.source)
        findings += settle([problem], [], config, today, expiry_notices=False)
    findings += expired_exception_notices(config.exceptions, config.source, today)
    report.findings = redact_findings(findings, secrets)
    return report


class _Runner:
    """Runs both passes over the chunks here (one process) or in one pool of workers for the whole run."""

    def __init__(self, job: TreeJob, head: Workspace, processes: int):
        self.local = ChunkJudge(job, head) if processes <= 1 else None
        self.pool = None
        self.tmp = None
        if self.local is None:
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            self.pool = ctx.Pool(processes, initializer=_start_worker, initargs=(job,))

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.pool is not None:
            if exc_type is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
        if self.tmp is not None:
            self.tmp.cleanup()

    def facts(self, chunks: list[list[str]]) -> list[ChunkFacts]:
        if self.local is not None:
            return [self.local.facts(chunk) for chunk in chunks]
        assert self.pool is not None
        return list(self.pool.imap(_facts_task, chunks))

    def judge(self, chunks: list[list[str]], facts: TreeFacts) -> list[ChunkVerdict]:
        if self.local is not None:
            return [self.local.judge(chunk, facts) for chunk in chunks]
        assert self.pool is not None
        # Written once and read once per worker, rather than pickled into every task.
        self.tmp = tempfile.TemporaryDirectory(prefix="gitops-bot-facts-")
        facts_file = str(Path(self.tmp.name, "facts.pickle"))
        with open(facts_file, "wb") as f:
            pickle.dump(facts, f, protocol=pickle.HIGHEST_PROTOCOL)
        return list(self.pool.imap(_judge_task, [(chunk, facts_file) for chunk in chunks]))


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
