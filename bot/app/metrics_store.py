"""Prometheus multiprocess mode: one metrics directory per server, dead processes' files folded into one.

prometheus_client writes every process's values to ``<dir>/<kind>_<pid>.db`` when
PROMETHEUS_MULTIPROC_DIR is set before it is imported, and /metrics sums them. Gunicorn
workers, embedded evaluation processes and RQ work horses (one per job) all come and go,
so files of dead processes pile up and every scrape reads them all; here they are merged
into one ``<kind>_archive.db`` per kind (counters and histograms summed, "most recent"
gauges keep the newest value), under a file lock that every reader and compactor takes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # importing prometheus_client fixes its storage: only types here (see use_private_directory)
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector


class _ValueFile(Protocol):
    """prometheus_client's (unannotated) MmapedDict: one process's values of one kind."""

    def read_all_values(self) -> Iterable[tuple[str, float, float]]: ...

    def write_value(self, key: str, value: float, timestamp: float) -> None: ...

    def close(self) -> None: ...

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
ARCHIVE = "archive"
_LOCK = ".compact.lock"
_SUMMED = frozenset({"counter", "histogram", "summary"})
# Gauge modes whose value outlives its process; live* and "all" gauges of a dead process mean nothing.
_KEPT_GAUGES = frozenset({"gauge_mostrecent", "gauge_max", "gauge_min", "gauge_sum"})


def directory() -> Path | None:
    """The directory this process writes its metrics to, or None (single-process mode)."""
    path = os.environ.get(ENV, "").strip()
    return Path(path) if path else None


def use_private_directory(prefix: str) -> Path:
    """Make this process and its children write metrics to a new directory of their own.

    Must run before prometheus_client is imported: it picks its storage once, at import,
    and a late switch would leave this process counting in memory, invisible to the others.
    """
    if "prometheus_client" in sys.modules:
        raise RuntimeError(f"{ENV} must be chosen before prometheus_client is imported")
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ[ENV] = str(path)
    return path


def prepare_shared_directory() -> tuple[Path, bool]:
    """For a server's master process: (directory, created here). An operator's directory is emptied.

    Counts left from an earlier run would be added to this run's, and a reused pid would
    continue another process's counters: prometheus_client wants a clean directory per start.
    """
    given = directory()
    if given is None:
        return use_private_directory("gitops-bot-metrics-"), True
    given.mkdir(parents=True, exist_ok=True)
    for file in given.glob("*.db"):
        file.unlink()
    return given, False


def remove_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive across processes: one compaction at a time, and no reader sees half of one."""
    with open(path / _LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compact_dead_processes(path: Path) -> int:
    """Fold the files of processes that are gone into the archive; returns how many files went."""
    with locked(path):
        return _compact(path)


class DirectoryCollector:
    """Every process's values in ``path``, read after folding the dead ones, under the directory's lock."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def collect(self) -> list[Metric]:
        from prometheus_client.multiprocess import MultiProcessCollector

        reader: Callable[[None, str], Collector] = MultiProcessCollector  # typed view of an unannotated class
        with locked(self._path):
            _compact(self._path)
            return list(reader(None, str(self._path)).collect())


def forget_process(pid: int, path: Path) -> None:
    """A server process is gone: drop its live gauges, fold what it counted into the archive."""
    from prometheus_client import multiprocess

    mark_dead: Callable[[int, str], None] = multiprocess.mark_process_dead  # typed view, as above
    mark_dead(pid, str(path))
    compact_dead_processes(path)


def _compact(path: Path) -> int:
    from prometheus_client.mmap_dict import MmapedDict

    open_file: Callable[[str], _ValueFile] = MmapedDict  # typed views of an unannotated class
    read_file: Callable[[str], Iterable[tuple[str, float, float, int]]] = MmapedDict.read_all_values_from_file
    dead: dict[str, list[Path]] = {}
    removed = 0
    for file in sorted(path.glob("*.db")):
        kind, _, pid = file.name[: -len(".db")].rpartition("_")
        if pid == ARCHIVE or not pid.isdigit() or _alive(int(pid)):
            continue
        if kind in _SUMMED or kind in _KEPT_GAUGES:
            dead.setdefault(kind, []).append(file)
        else:
            file.unlink()
            removed += 1
    for kind, files in dead.items():
        archive = open_file(str(path / f"{kind}_{ARCHIVE}.db"))
        try:
            merged = {key: (value, stamp) for key, value, stamp in archive.read_all_values()}
            for file in files:
                for key, value, stamp, _ in read_file(str(file)):
                    merged[key] = _combine(kind, merged.get(key), (value, stamp))
            for key, (value, stamp) in merged.items():
                archive.write_value(key, value, stamp)
        finally:
            archive.close()
        # A crash between the write above and these unlinks would count these files twice; the
        # window is a few system calls, and losing counts instead would be no better.
        for file in files:
            file.unlink()
            removed += 1
    if removed:
        log.debug("metrics %s: folded %d files of finished processes", path, removed)
    return removed


def _combine(kind: str, old: tuple[float, float] | None, new: tuple[float, float]) -> tuple[float, float]:
    if old is None:
        return new
    if kind in _SUMMED or kind == "gauge_sum":
        return old[0] + new[0], max(old[1], new[1])
    if kind == "gauge_max":
        return max(old, new)
    if kind == "gauge_min":
        return min(old, new)
    return max(old, new, key=lambda pair: pair[1])  # mostrecent: the later timestamp wins


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
