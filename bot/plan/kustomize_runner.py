"""Run `kustomize build` (or `kubectl kustomize`) as a sandboxed subprocess: safe flags, no secrets, a time limit."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

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
        process = subprocess.Popen(
            [*command, str(directory)],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so a timeout kills whatever it started too
        )
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise RenderFailed(f"kustomize build took longer than {self.timeout:g} s and was stopped") from None
        if process.returncode != 0:
            raise RenderFailed(_error_text(err, home.parent))
        if len(out) > self.max_output_bytes:
            raise RenderFailed(f"kustomize build produced more than {self.max_output_bytes} bytes")
        return out


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
    process.communicate()


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
