"""`gitops-bot check --jobs N` side by side: wall time, CPU and peak RSS per process, and kubeconform when on PATH.

    python bench/bench_jobs.py                          # 5,000 and 20,000 generated documents, --jobs 1 and 2
    python bench/bench_jobs.py --documents 5000 --jobs 1,2 --corpus /tmp/corpus

Each configuration runs `gitops-bot check` as a fresh subprocess (what a user runs:
imports, schema and policy compilation included). A sampler reads /proc every 50 ms
for the CLI and every process it starts (forkserver and workers), so CPU seconds and
peak RSS (VmHWM) cover the whole process tree; the largest single process is what
"memory bounded by the largest file" is about. The JSON reports of every --jobs
value are compared byte for byte. kubeconform (schema only, ``-n 2``) runs on the
same tree when a ``kubeconform`` binary is on PATH; otherwise the table says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Tree:
    """CPU and peak RSS of a process and its descendants, sampled from /proc."""

    cpu: dict[int, float] = field(default_factory=dict)  # pid -> user+system seconds, last seen
    hwm_kib: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM, last seen

    def sample(self, root: int) -> None:
        for pid in [root, *_descendants(root)]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # gone between listing and reading
            self.cpu[pid] = (int(stat[11]) + int(stat[12])) / TICKS
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.hwm_kib[pid] = int(line.split()[1])


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass
class Run:
    label: str
    wall: float
    cpu: float
    processes: int
    largest_rss_mib: float
    output: str = ""


def run_measured(label: str, argv: list[str], env: dict[str, str] | None = None) -> Run:
    tree = Tree()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    done = threading.Event()

    def sampler() -> None:
        while not done.is_set():
            tree.sample(proc.pid)
            done.wait(0.05)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    out, err = proc.communicate()
    wall = time.monotonic() - start
    done.set()
    thread.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{label}: exit {proc.returncode}\n{err[-2000:]}")
    return Run(label, wall, sum(tree.cpu.values()), len(tree.cpu), max(tree.hwm_kib.values(), default=0) / 1024, out)


def check(corpus: Path, jobs: int) -> Run:
    argv = [sys.executable, "-m", "bot.cli", "check", "--format", "json", "--jobs", str(jobs), str(corpus)]
    return run_measured(f"gitops-bot --jobs {jobs}", argv, env={**os.environ, "PYTHONPATH": str(ROOT)})


def kubeconform(corpus: Path, processes: int) -> Run | None:
    binary = shutil.which("kubeconform")
    if binary is None:
        return None
    argv = [binary, "-summary", "-n", str(processes), "-ignore-missing-schemas", str(corpus)]
    return run_measured(f"kubeconform -n {processes}", argv)


def table(documents: int, runs: list[Run]) -> str:
    base = runs[0].wall
    header = f"{'documents':>9} {'configuration':<22} {'wall s':>7} {'CPU s':>7} {'procs':>5} {'largest RSS MiB':>15} {'vs first':>8}"
    rows = [header, "-" * len(header)]
    for r in runs:
        rows.append(
            f"{documents:>9} {r.label:<22} {r.wall:>7.2f} {r.cpu:>7.2f} {r.processes:>5} {r.largest_rss_mib:>15.1f} {r.wall / base:>7.2f}x"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", default="5000,20000", help="comma-separated corpus sizes (generated)")
    parser.add_argument("--corpus", type=Path, help="an existing tree instead of generated ones")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values (default 1,2)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    jobs = [int(n) for n in args.jobs.split(",")]
    print(f"{os.cpu_count()} CPUs, usable {len(os.sched_getaffinity(0))}, Python {sys.version.split()[0]}")
    print("load average before: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="gitops-bench-jobs-") as tmp:
        trees: list[tuple[int, Path]] = []
        if args.corpus:
            trees.append((0, args.corpus))
        else:
            from bench.generate_corpus import build_corpus, write_corpus

            for n in (int(x) for x in args.documents.split(",")):
                path = Path(tmp, f"corpus-{n}")
                write_corpus(build_corpus(n, max(1, n // 10), 0.05, args.seed), path)
                trees.append((n, path))
        for documents, corpus in trees:
            runs = [check(corpus, n) for n in jobs]
            same = len({r.output for r in runs}) == 1
            kc = kubeconform(corpus, 2)
            print()
            print(table(documents, runs + ([kc] if kc else [])))
            print(f"reports of --jobs {args.jobs}: {'identical' if same else 'DIFFERENT'}")
            if kc is None:
                print("kubeconform: not on PATH, not measured (only the --jobs ratios above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
