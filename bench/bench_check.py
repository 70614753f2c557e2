"""Measure `evaluate` throughput and memory on a generated corpus; prints a table (not run by CI).

    python bench/bench_check.py                       # generate 5000 documents in a temp dir, then measure
    python bench/bench_check.py --corpus /tmp/corpus   # measure an existing tree

Configurations: schema-only and schema + built-in policies, each with 1 and 2 processes.
Every configuration runs in fresh worker processes (spawned, so nothing is shared with
this process or an earlier configuration): peak RSS figures do not mix, and the first
evaluation's schema and policy loading is timed apart ("startup") from the measured run.
With N processes the files are split into N shares of about equal bytes and each worker
evaluates its share (``EvalOptions.changed_paths``); wall time runs from the moment all
workers are ready until the last one finishes. Ratios compare with the 1-process
schema-only run of the same invocation.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

WARM_UP_MANIFEST = b"""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: warm-up, namespace: default}
spec:
  selector: {matchLabels: {app: warm-up}}
  template:
    metadata: {labels: {app: warm-up}}
    spec:
      containers: [{name: app, image: "nginx:1.27.1"}]
"""


WORKER_TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class Config:
    name: str
    policies: bool
    processes: int


@dataclass(frozen=True)
class WorkerResult:
    documents: int
    findings: int
    files: int
    startup_seconds: float
    finished_at: float  # time.monotonic(): system-wide on Linux, so comparable across processes
    peak_rss_kib: int


@dataclass(frozen=True)
class Measurement:
    config: Config
    documents: int
    findings: int
    startup_seconds: float
    wall_seconds: float
    peak_rss_mib: float

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def split_by_size(root: Path, paths: list[str], shares: int) -> list[list[str]]:
    """Greedy split into ``shares`` lists of about equal total bytes (largest files first)."""
    buckets: list[list[str]] = [[] for _ in range(shares)]
    sizes = [0] * shares
    for path in sorted(paths, key=lambda p: (-(root / p).stat().st_size, p)):
        i = sizes.index(min(sizes))
        buckets[i].append(path)
        sizes[i] += (root / path).stat().st_size
    return buckets


def _worker(
    corpus: str, share: list[str], policies: bool, kubernetes_version: str | None, ready, results
) -> None:
    """One process: warm caches on a tiny tree, wait for the others, evaluate its share, report."""
    import resource

    from bot.core.evaluate import EvalOptions, evaluate
    from bot.core.workspace import Workspace

    def options(paths: list[str] | None) -> EvalOptions:
        return EvalOptions(policies=policies, changed_paths=paths, kubernetes_version=kubernetes_version)

    start = time.monotonic()
    evaluate(Workspace.from_dict({"warm-up.yaml": WARM_UP_MANIFEST}), options=options(None))
    startup = time.monotonic() - start
    ready.wait()
    report = evaluate(Workspace.from_directory(corpus), options=options(share))
    finished = time.monotonic()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    results.put(
        WorkerResult(
            documents=report.resources_checked,
            findings=len(report.findings),
            files=report.files_checked,
            startup_seconds=startup,
            finished_at=finished,
            peak_rss_kib=peak,
        )
    )


def measure(config: Config, corpus: Path, paths: list[str], kubernetes_version: str | None) -> Measurement:
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(config.processes + 1)
    results = ctx.Queue()
    shares = split_by_size(corpus, paths, config.processes)
    workers = [
        ctx.Process(
            target=_worker, args=(str(corpus), share, config.policies, kubernetes_version, ready, results)
        )
        for share in shares
    ]
    for w in workers:
        w.start()
    try:
        ready.wait(timeout=WORKER_TIMEOUT_SECONDS)  # broken if a worker dies while warming up
        started = time.monotonic()
        collected = [results.get(timeout=WORKER_TIMEOUT_SECONDS) for _ in workers]
    except (threading.BrokenBarrierError, queue.Empty):
        for w in workers:
            w.kill()
        raise SystemExit(
            f"{config.name} x{config.processes}: a worker failed or hung (see its traceback above)"
        ) from None
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise SystemExit(f"{config.name}: a worker exited with code {w.exitcode}")
    return Measurement(
        config=config,
        documents=sum(r.documents for r in collected),
        findings=sum(r.findings for r in collected),
        startup_seconds=max(r.startup_seconds for r in collected),
        wall_seconds=max(r.finished_at for r in collected) - started,
        peak_rss_mib=max(r.peak_rss_kib for r in collected) / 1024,
    )


def time_kubeconform(corpus: Path, processes: int) -> str:
    """kubeconform on the same tree, when installed; it needs its schemas cached locally (no network here)."""
    binary = shutil.which("kubeconform") or "kubeconform"
    start = time.monotonic()
    done = subprocess.run(
        [binary, "-summary", "-n", str(processes), "-ignore-missing-schemas", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - start
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return f"kubeconform -n {processes}: {elapsed:.2f} s, exit {done.returncode}: {last}"


def table(measurements: list[Measurement]) -> str:
    baseline = measurements[0].docs_per_second
    header = (
        f"{'configuration':<20} {'procs':>5} {'docs':>6} {'findings':>8} {'startup s':>9} "
        f"{'wall s':>8} {'docs/s':>9} {'peak RSS MiB':>12} {'vs base':>8}"
    )
    rows = [header, "-" * len(header)]
    for m in measurements:
        rows.append(
            f"{m.config.name:<20} {m.config.processes:>5} {m.documents:>6} {m.findings:>8} "
            f"{m.startup_seconds:>9.2f} {m.wall_seconds:>8.2f} {m.docs_per_second:>9.0f} "
            f"{m.peak_rss_mib:>12.1f} {m.docs_per_second / baseline:>7.2f}x"
        )
    return "\n".join(rows)


def manifest_paths(corpus: Path) -> list[str]:
    return sorted(
        p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="existing tree to check (default: generate one)")
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--broken", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts (default 1,2)")
    parser.add_argument("--kubernetes-version", default=None)
    args = parser.parse_args(argv)
    counts = sorted({int(n) for n in args.processes.split(",")})

    with tempfile.TemporaryDirectory(prefix="gitops-bench-") as tmp:
        corpus = args.corpus
        if corpus is None:
            from bench.generate_corpus import build_corpus, describe, write_corpus

            generated = build_corpus(args.documents, args.files, args.broken, args.seed)
            corpus = Path(tmp)
            write_corpus(generated, corpus)
            print(f"corpus (seed {args.seed}): {describe(generated)}".replace("\n", "\n  "))
        paths = manifest_paths(corpus)
        print(
            f"checking {len(paths)} files under {corpus} on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        )
        # Other work on the machine skews every figure, the 2-process ones most: say how busy it was.
        print("load average before: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + "\n")

        configs = [Config("schema-only", False, n) for n in counts] + [
            Config("schema+policies", True, n) for n in counts
        ]
        measurements = []
        for config in configs:
            measurements.append(measure(config, corpus, paths, args.kubernetes_version))
            print(f"  measured {config.name} x{config.processes}", file=sys.stderr)
        print(table(measurements))
        if shutil.which("kubeconform"):
            for n in counts:
                print(time_kubeconform(corpus, n))
        else:
            print("kubeconform: not on PATH (not timed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
