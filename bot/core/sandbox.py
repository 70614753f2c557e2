"""One boundary for untrusted evaluation: a job runs in a child process with CPU, memory, time and output limits.

Everything a pull request carries that executes (its policies and their tests, its
ConstraintTemplates, its data files) runs only through `run_sandboxed`: a fresh
``python -I`` child with a scrubbed environment, no inherited file descriptors,
``RLIMIT_CPU`` / ``RLIMIT_AS`` set before the job is read, and a wall-clock deadline
after which the parent kills it. Trusted base policies run through a long-lived
`SandboxWorker` (one per thread, compiled policies cached inside it) so a
misbehaving policy cannot hang the App either, at the cost of one pipe round trip.

The parent sends the job pickled (parent -> child is the trusted direction) and
reads back at most ``output_bytes`` of JSON: it never unpickles what a child wrote.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import resource
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.findings import Finding, Severity, Source
from bot.env import env_number
from bot.errors import PolicyError

RULE_TIMEOUT = "policy/timeout"
RULE_RESOURCE_LIMIT = "policy/resource-limit"
_HEADER = struct.Struct(">Q")
ADDRESS_SPACE_RESERVE = 4096 * 1024 * 1024
_STDERR_KEEP = 16 * 1024
# The child's whole environment: nothing of the App's (keys, tokens, GITOPS_BOT_*) is passed on.
# MALLOC_ARENA_MAX and GOMAXPROCS keep the reserved address space small: glibc reserves 64 MB per
# thread arena and OPA's Go runtime starts a thread per CPU, which RLIMIT_AS would otherwise count.
_CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "MALLOC_ARENA_MAX": "2",
    "GOMAXPROCS": "2",
}


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed job may cost; the defaults suit a GitOps repository's policies."""

    wall_seconds: float = 60.0  # GITOPS_BOT_SANDBOX_TIMEOUT: untrusted jobs (PR policy tests, PR templates)
    trusted_wall_seconds: float = 120.0  # GITOPS_BOT_TRUSTED_POLICY_TIMEOUT: base-branch policies
    cpu_seconds: int = 60  # GITOPS_BOT_SANDBOX_CPU_SECONDS: RLIMIT_CPU per job
    memory_bytes: int = 2048 * 1024 * 1024  # GITOPS_BOT_SANDBOX_MEMORY_MB: RLIMIT_DATA (+ reserve for RLIMIT_AS)
    output_bytes: int = 32 * 1024 * 1024  # GITOPS_BOT_SANDBOX_OUTPUT_MB: largest result the parent reads

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SandboxLimits:
        """Limits from the operator's environment; a bad value is a ConfigError naming the variable."""
        d = cls()
        return cls(
            wall_seconds=env_number(env, "GITOPS_BOT_SANDBOX_TIMEOUT", default=d.wall_seconds, positive=True),
            trusted_wall_seconds=env_number(env, "GITOPS_BOT_TRUSTED_POLICY_TIMEOUT", default=d.trusted_wall_seconds, positive=True),
            cpu_seconds=int(env_number(env, "GITOPS_BOT_SANDBOX_CPU_SECONDS", default=d.cpu_seconds, positive=True)),
            memory_bytes=int(env_number(env, "GITOPS_BOT_SANDBOX_MEMORY_MB", default=d.memory_bytes >> 20, positive=True)) << 20,
            output_bytes=int(env_number(env, "GITOPS_BOT_SANDBOX_OUTPUT_MB", default=d.output_bytes >> 20, positive=True)) << 20,
        )


def default_limits() -> SandboxLimits:
    """Read at call time (never at import): tests and operators set the variables before evaluating."""
    return SandboxLimits.from_env(os.environ)


class SandboxLimitError(PolicyError):
    """A sandboxed job was stopped; ``rule`` is `RULE_TIMEOUT` or `RULE_RESOURCE_LIMIT`."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule

    def finding(self, consequence: str, *, file: str, line: int = 0, remediation: str) -> Finding:
        """The blocking finding that says what was stopped and what it cost (nothing judged is never a pass)."""
        return Finding(self.rule, Severity.ERROR, f"{self}; {consequence}", file=file, line=line,
                       source=Source.POLICY, remediation=remediation)


class SandboxWorker:
    """One child process that runs jobs one after another (a dead or overrun child is never reused).

    ``call("module:function", payload)`` imports the function in the child, calls it with the
    payload, and returns its JSON-compatible result. A PolicyError raised by the job comes back
    as a PolicyError; a timeout or limit as `SandboxLimitError`.
    """

    def __init__(self, limits: SandboxLimits | None = None):
        self.limits = limits or default_limits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr = bytearray()

    def call(self, function: str, payload: Any, *, timeout: float | None = None, label: str = "") -> Any:
        proc = self._ensure_started()
        deadline = time.monotonic() + (timeout or self.limits.wall_seconds)
        job = pickle.dumps((function, payload, self.limits.cpu_seconds), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_frame(proc, job, deadline)
            raw = _read_frame(proc, deadline, self.limits.output_bytes)
        except _Overrun as e:
            self.close()
            raise SandboxLimitError(e.rule, f"{label or 'evaluation'}: {e}") from None
        except (OSError, _Died):
            status = self._reap()
            raise _died_error(status, label, self.limits) from None
        answer = json.loads(raw)
        if "error" in answer:
            if answer["error"] == "memory":
                self.close()
                raise SandboxLimitError(
                    RULE_RESOURCE_LIMIT, f"{label or 'evaluation'}: over the {self.limits.memory_bytes >> 20} MB memory limit"
                )
            raise PolicyError(answer.get("message", "sandboxed evaluation failed"))
        return answer["result"]

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._reap()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", "from bot.core.sandbox import child_main; child_main()", str(self.limits.memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(_CHILD_ENV),
            close_fds=True,
            cwd="/",
            start_new_session=True,  # a kill reaches nothing else; no terminal signals from the App's session
        )
        self._stderr = bytearray()
        threading.Thread(target=_drain, args=(self._proc.stderr, self._stderr), daemon=True).start()
        return self._proc

    def _reap(self) -> int:
        proc, self._proc = self._proc, None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.kill()
        status = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        return status


def run_sandboxed(function: str, payload: Any, *, limits: SandboxLimits | None = None, label: str = "") -> Any:
    """One job in a fresh child that exits afterwards: nothing one pull request computes outlives it."""
    worker = SandboxWorker(limits)
    try:
        return worker.call(function, payload, label=label)
    finally:
        worker.close()


_local = threading.local()


def trusted_worker() -> SandboxWorker:
    """This thread's long-lived worker for base-branch policies (compiled sets stay cached inside it)."""
    limits = default_limits()  # re-read: the operator's (or a test's) settings apply from the next call
    worker = getattr(_local, "worker", None)
    if worker is None:
        worker = _local.worker = SandboxWorker(limits)
    elif worker.limits != limits:
        worker.close()  # the child's rlimits were set at its start
        worker.limits = limits
    return worker


class _Overrun(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule

    def finding(self, consequence: str, *, file: str, line: int = 0, remediation: str) -> Finding:
        """The blocking finding that says what was stopped and what it cost (nothing judged is never a pass)."""
        return Finding(self.rule, Severity.ERROR, f"{self}; {consequence}", file=file, line=line,
                       source=Source.POLICY, remediation=remediation)


class _Died(Exception):
    pass


def _write_frame(proc: subprocess.Popen[bytes], data: bytes, deadline: float) -> None:
    """Written by a helper thread so a child that stops reading cannot block the parent past the deadline."""
    assert proc.stdin is not None
    stdin = proc.stdin
    errors: list[BaseException] = []

    def write() -> None:
        try:
            stdin.write(_HEADER.pack(len(data)) + data)
            stdin.flush()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(e)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(max(0.0, deadline - time.monotonic()))
    if writer.is_alive():
        proc.kill()
        raise _Overrun(RULE_TIMEOUT, "did not finish within the time limit")
    if errors:
        raise _Died() from errors[0]


def _read_frame(proc: subprocess.Popen[bytes], deadline: float, cap: int) -> bytes:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    header = _read_exactly(proc, fd, _HEADER.size, deadline)
    (size,) = _HEADER.unpack(header)
    if size > cap:
        proc.kill()
        raise _Overrun(RULE_RESOURCE_LIMIT, f"its result is {size:,} bytes, over the {cap:,}-byte limit")
    return _read_exactly(proc, fd, size, deadline)


def _read_exactly(proc: subprocess.Popen[bytes], fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                proc.kill()
                raise _Overrun(RULE_TIMEOUT, "did not finish within the time limit")
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                raise _Died()
            chunks.append(chunk)
            remaining -= len(chunk)
    return b"".join(chunks)


def _drain(stream: Any, keep: bytearray) -> None:
    """Keep the first bytes of the child's stderr (Rego print(), tracebacks); never more."""
    for chunk in iter(lambda: stream.read(4096), b""):
        if len(keep) < _STDERR_KEEP:
            keep.extend(chunk[: _STDERR_KEEP - len(keep)])
    stream.close()


def _died_error(status: int, label: str, limits: SandboxLimits) -> SandboxLimitError:
    what = label or "evaluation"
    if status in (-signal.SIGXCPU, -signal.SIGKILL):
        return SandboxLimitError(RULE_TIMEOUT, f"{what}: stopped after the {limits.cpu_seconds}-second CPU limit")
    return SandboxLimitError(
        RULE_RESOURCE_LIMIT,
        f"{what}: the evaluation process ended abnormally (exit status {status}), most likely over the "
        f"{limits.memory_bytes >> 20} MB memory limit",
    )


def child_main() -> None:
    """Entry point of the child: limits first, then jobs from stdin, answers as JSON frames on stdout."""
    memory = int(sys.argv[1])
    # RLIMIT_DATA caps what the job can actually use (writable memory); RLIMIT_AS also caps address
    # space, with room for what the engines reserve without using (regorus ~1 GB, OPA's Go runtime ~2 GB).
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_AS, (memory + ADDRESS_SPACE_RESERVE, memory + ADDRESS_SPACE_RESERVE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    stdin = sys.stdin.buffer
    # Frames go to a private copy of fd 1; fd 1 itself becomes stderr, so a print() from Python or
    # from an engine's native code (Rego print) lands in the bounded stderr capture, not in a frame.
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        function, payload, cpu_seconds = pickle.loads(stdin.read(size))
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + int(cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        try:
            answer: dict[str, Any] = {"result": _resolve(function)(payload)}
        except MemoryError:
            answer = {"error": "memory"}
        except PolicyError as e:
            answer = {"error": "policy", "message": str(e)}
        except Exception as e:  # noqa: BLE001 - reported to the parent as a failed evaluation
            answer = {"error": "crash", "message": f"{type(e).__name__}: {e}"[:2000]}
        try:
            data = json.dumps(answer).encode()
        except MemoryError:
            data = b'{"error": "memory"}'
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()


def _resolve(function: str) -> Any:
    module, _, name = function.partition(":")
    if not module.startswith("bot."):
        raise PolicyError(f"sandbox: refusing to run {function!r}")
    return getattr(importlib.import_module(module), name)


def child_facts(_payload: Any = None) -> dict[str, Any]:
    """What a sandboxed job sees (environment names, open descriptors, limits): a self-check for tests and operators."""
    return {
        "environment": sorted(os.environ),
        "open_fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else [],
        "cpu_limit": resource.getrlimit(resource.RLIMIT_CPU)[0],
        "data_limit": resource.getrlimit(resource.RLIMIT_DATA)[0],
        "address_space_limit": resource.getrlimit(resource.RLIMIT_AS)[0],
    }
