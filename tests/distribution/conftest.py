"""One wheel per test session, built from a copy of the checkout and installed into a fresh venv outside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_COPY_SKIPS = {".git", ".venv", "__pycache__", "build", "dist", ".pytest_cache", ".ruff_cache", "node_modules", "data"}


@dataclass(frozen=True)
class Installed:
    """The built distributions and a venv holding only the wheel and its declared dependencies."""

    wheel: Path
    sdist: Path
    source: Path  # the copy of the checkout the distributions were built from
    venv: Path
    workdir: Path  # an empty directory outside the checkout to run commands from

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args: str, cwd: Path | None = None, env: dict | None = None, stdin: str | None = None):
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=cwd or self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            env={**clean_env(), "NO_COLOR": "1", **(env or {})},
        )


def clean_env() -> dict[str, str]:
    """The environment without anything that would let the checkout leak into the installed bot."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def copy_checkout(dest: Path) -> Path:
    """The files a clean clone would have (tracked and new, not ignored), so local build litter cannot help."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=False,
    )
    if listed.returncode == 0 and listed.stdout:
        for rel in filter(None, listed.stdout.decode().split("\0")):
            src = ROOT / rel
            if src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:  # not a git checkout (an unpacked sdist, say)
        shutil.copytree(ROOT, dest, ignore=lambda _d, names: [n for n in names if n in _COPY_SKIPS], dirs_exist_ok=True)
    return dest


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    source = copy_checkout(base / "src")
    dist = base / "dist"
    # `python -m build` builds the sdist, then the wheel *from the sdist*: both must carry everything.
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
        check=True, capture_output=True, timeout=600, env=clean_env(),
    )
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    venv = base / ".venv"  # the usual name: nothing under a ".venv" may be mistaken for local litter
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True, capture_output=True, timeout=900, env=clean_env(),
    )
    workdir = base / "elsewhere"
    workdir.mkdir()
    return Installed(wheel=wheel, sdist=sdist, source=source, venv=venv, workdir=workdir)


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def sdist_names(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as t:
        return {name.split("/", 1)[1] for name in t.getnames() if "/" in name}
