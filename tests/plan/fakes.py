"""A fake `kustomize` on PATH that records how it was called, to prove what the plan did (not) run."""

from __future__ import annotations

from pathlib import Path

from bot.plan.kustomize_runner import KustomizeRunner


class FakeKustomize:
    """A shell script named ``kustomize`` that logs its arguments and environment, then prints ``output``."""

    def __init__(self, directory: Path, output: str = "", sleep_seconds: int = 0, exit_code: int = 0):
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True)
        self.calls_log = directory / "calls.log"
        self.env_log = directory / "env.log"
        script = self.bin / "kustomize"
        script.write_text(
            "#!/bin/sh\n"
            'for last in "$@"; do :; done\n'
            f'echo "$@" >> "{self.calls_log}"\n'
            f'env >> "{self.env_log}"\n'
            + (f"sleep {sleep_seconds}\n" if sleep_seconds else "")
            + (f"echo \"Error: accumulating resources: open $last/missing.yaml\" >&2\nexit {exit_code}\n" if exit_code else "")
            + f"cat <<'YAML'\n{output}\nYAML\n"
        )
        script.chmod(0o755)

    def runner(self, timeout: float = 30.0) -> KustomizeRunner:
        return KustomizeRunner(search_path=f"{self.bin}:/usr/bin:/bin", timeout=timeout)

    @property
    def calls(self) -> list[str]:
        return self.calls_log.read_text().splitlines() if self.calls_log.exists() else []

    @property
    def environment(self) -> str:
        return self.env_log.read_text() if self.env_log.exists() else ""
