"""Run `kustomize build` (or `kubectl kustomize`) as a sandboxed subprocess: safe flags, no secrets, CPU, memory, output and time limits."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.core.sandbox import ADDRESS_SPACE_RESERVE, default_limits
from bot.errors import GitOpsBotError

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024
_KLOG_PREFIX = re.compile(r"^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\] ")
_KUBECTL_ERR = re.compile(r'"command failed" err="(.*)"')
_KUBECTL_BLOCK = re.compile(r'"command failed" err=<\n(.*?)\n\s*>\s*$', re.S)
# Files a build reads must lie in or below its kustomization's directory (kustomize's default, made explicit).
SAFE_FLAGS = ("--load-restrictor", "LoadRestrictionsRootOnly")
NOT_FOUND = "kustomize not found: install kustomize or kubectl (`kubectl kustomize`) on PATH"


class KustomizeNotFound(GitOpsBotError):
    """Neither `kustomize` nor `kubectl` is on PATH: kustomize roots cannot be rendered."""


class RenderFailed(GitOpsBotError):
    """kustomize ran and failed (bad input, missing file, load restrictions) or took too long."""


class KustomizeRunner:
    """Finds a kustomize binary and builds one directory with it.

    Never passes ``--enable-exec``, ``--enable-alpha-plugins`` or ``--enable-helm``, and
    always passes ``--load-restrictor LoadRestrictionsRootOnly`` explicitly, so no kustomize
    version or wrapper default can widen what a build reads. The child gets ``PATH`` and a
    throwaway ``HOME`` (plugin and config homes inside it) and nothing else, so no credential
    in the bot's environment can reach it.
    """

    def __init__(
        self,
        search_path: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ):
        self.search_path = search_path if search_path is not None else os.environ.get("PATH", os.defpath)
        self.timeout = timeout
        self.max_output_bytes = max_output_bytes

    def command(self) -> list[str] | None:
        """The build command without its directory argument, or None when no binary is found."""
        kustomize = shutil.which("kustomize", path=self.search_path)
        if kustomize:
            return [kustomize, "build", *SAFE_FLAGS]
        kubectl = shutil.which("kubectl", path=self.search_path)
        if kubectl:
            return [kubectl, "kustomize", *SAFE_FLAGS]
        return None

    def build(self, directory: Path, home: Path) -> bytes:
        """The rendered YAML stream of the kustomization in ``directory``."""
        command = self.command()
        if command is None:
            raise KustomizeNotFound(NOT_FOUND)
        env = minimal_environment(self.search_path, home)
        code, out, err = run_limited([*command, str(directory)], cwd=home, env=env, timeout=self.timeout,
                                     max_output_bytes=self.max_output_bytes, what="kustomize build")
        if code != 0:
            raise RenderFailed(_error_text(err, home.parent) or f"kustomize build failed ({_exit(code)})")
        return out


# The child sets its own limits, then becomes the renderer: no preexec_fn (renders run on several threads,
# where forking Python code before exec is unsafe). `-I -S`: no site, no user paths, no environment.
_TRAMPOLINE = (
    "import os, resource, sys\n"
    "cpu, data, space, size = (int(v) for v in sys.argv[1:5])\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))\n"
    "resource.setrlimit(resource.RLIMIT_DATA, (data, data))\n"
    "resource.setrlimit(resource.RLIMIT_AS, (space, space))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execv(sys.argv[5], sys.argv[5:])\n"
)


def run_limited(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float, max_output_bytes: int,
                what: str) -> tuple[int, bytes, bytes]:
    """Run a renderer from a pull request's files behind the sandbox's limits (README: Threat model).

    CPU time and memory as for sandboxed policies (`bot.core.sandbox`: RLIMIT_DATA, plus an address-space
    reserve Go's runtime needs), output written to files capped by RLIMIT_FSIZE (never buffered without
    bound here), a wall-clock limit that kills the whole process group. Returns (exit code, stdout, stderr);
    raises `RenderFailed` for a limit hit.
    """
    limits = default_limits()
    cpu = max(1, int(limits.cpu_seconds))
    wrapped = [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, str(cpu), str(limits.memory_bytes),
               str(limits.memory_bytes + ADDRESS_SPACE_RESERVE), str(max_output_bytes + 1), *command]
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(
            wrapped, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file,
            start_new_session=True,  # so a timeout kills whatever it started too
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise RenderFailed(f"{what} took longer than {timeout:g} s and was stopped") from None
        size = out_file.seek(0, os.SEEK_END)
        if size > max_output_bytes or code == -signal.SIGXFSZ:
            raise RenderFailed(f"{what} produced more than {max_output_bytes} bytes and was stopped")
        if code == -signal.SIGXCPU or code == -signal.SIGKILL:
            raise RenderFailed(f"{what} used more than its {cpu} s of CPU time (or was killed) and was stopped")
        out_file.seek(0)
        err_file.seek(0)
        return code, out_file.read(), err_file.read(64 * 1024)


def _exit(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit status {code}"


def minimal_environment(search_path: str, home: Path) -> dict[str, str]:
    """Everything the child sees: where binaries are, and homes that are empty throwaway directories."""
    return {
        "PATH": search_path,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "KUSTOMIZE_PLUGIN_HOME": str(home / "no-plugins"),  # never populated: no plugin can be found
        "LANG": "C",
    }


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _error_text(stderr: bytes, sandbox: Path) -> str:
    """kustomize's last error line, with the sandbox taken out of the paths it names (repo-relative again)."""
    text = stderr.decode("utf-8", "replace").strip()
    block = _KUBECTL_BLOCK.search(text)  # klog writes a multi-line error as err=<\n\t...\n >
    if block:
        text = " ".join(line.strip() for line in block.group(1).splitlines() if line.strip())
    lines = [line for line in text.splitlines() if line.strip()]
    message = lines[-1] if lines else "kustomize build failed"
    message = _KLOG_PREFIX.sub("", message)  # kubectl logs through klog: "E1126 14:04:55.3 123 run.go:72] "
    wrapped = _KUBECTL_ERR.fullmatch(message)
    if wrapped:
        message = wrapped.group(1).replace('\\"', '"')
    for root in (sandbox.resolve(), sandbox):
        for prefix in (f"{root}/repo/", f"{root}/"):
            message = message.replace(prefix, "")
    return message[:2000]
