"""Where policy text comes from (directories, a workspace, the built-in library) and how data files merge."""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from bot.core.workspace import Workspace
from bot.core.yaml_gateway import YamlError, load_values
from bot.errors import ConfigError, PolicyError

REGO_SUFFIX = ".rego"
TEST_SUFFIX = "_test.rego"
DATA_SUFFIXES = (".json", ".yaml", ".yml")
_SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__"}

Source = tuple[str, str]  # (filename, text)


def builtin_policy_dir() -> Path:
    """The built-in library: ``bot/builtin_policies/`` in an installed wheel, else ``policies/`` of a checkout.

    The installed copy wins so that a stray ``policies/`` beside site-packages is never mistaken for it.
    A bot without its library would pass what it should block, so a missing one is an error, never "no rules".
    """
    installed = Path(__file__).parents[2] / "builtin_policies"
    checkout = Path(__file__).parents[3] / "policies"
    for candidate in (installed, checkout):
        if candidate.is_dir() and any(candidate.rglob("*" + REGO_SUFFIX)):
            return candidate
    raise ConfigError(
        f"the built-in policy library is missing (looked in {installed} and {checkout}): this installation of "
        "gitops-policy-bot is broken; reinstall it from a wheel or with `pip install .` from the repository"
    )


@functools.cache
def builtin_sources() -> tuple[Source, ...]:
    """Read once per process: the library never changes while the bot runs. Raises ConfigError when missing."""
    # One label wherever it is installed, so messages name the files as the repository does.
    root = builtin_policy_dir()
    sources = tuple(directory_sources([root], label_root="policies"))
    if not any(name.endswith(REGO_SUFFIX) and not name.endswith(TEST_SUFFIX) for name, _ in sources):
        raise ConfigError(f"the built-in policy library at {root} has no policies: this installation is broken")
    return sources


def is_policy_file(name: str) -> bool:
    return name.endswith(REGO_SUFFIX) or name.endswith(DATA_SUFFIXES)


def directory_sources(dirs: Sequence[str | Path], *, label_root: str | None = None) -> list[Source]:
    """Every .rego and data file under ``dirs`` (a single file is accepted too), in a stable order."""
    sources: list[Source] = []
    for directory in dirs:
        root = Path(directory)
        if not root.exists():
            raise ConfigError(f"policy path {root} does not exist")
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            # Only the parts below the root: a library installed in a ".venv" must not skip itself.
            if _SKIPPED_DIRS & set(path.relative_to(root).parts) or path.is_symlink() or not is_policy_file(path.name):
                continue
            label = (Path(label_root) / path.relative_to(root)).as_posix() if label_root else path.as_posix()
            try:
                sources.append((label, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as e:
                raise PolicyError(f"read {label}: {e}") from None
    return sources


def tree_sources(files: Mapping[str, str], directory: str) -> list[Source]:
    """The policy files of an in-memory tree (path -> text) below ``directory``, picked and ordered as
    `directory_sources` would read that tree from disk, so the core tests a PR's policies without writing them."""
    root = posixpath.normpath(directory.strip().strip("/") or ".")
    prefix = "" if root == "." else root + "/"
    chosen = []
    for path, text in files.items():
        if not path.startswith(prefix) or not is_policy_file(path):
            continue
        if _SKIPPED_DIRS & set(PurePosixPath(path[len(prefix):]).parts):
            continue
        chosen.append((path, text))
    return sorted(chosen, key=lambda source: PurePosixPath(source[0]).parts)


def workspace_sources(ws: Workspace, dirs: Sequence[str]) -> list[Source]:
    """Policy files of a repository tree (read at a trusted ref by the caller)."""
    prefixes = [d.strip("/") for d in dirs]
    sources: list[Source] = []
    for path in ws.paths:
        if not is_policy_file(path) or not any(
            p in ("", ".") or path == p or path.startswith(p + "/") for p in prefixes
        ):
            continue
        raw = ws.read(path)
        if raw is None:
            continue
        try:
            sources.append((path, raw.decode("utf-8")))
        except UnicodeDecodeError as e:
            raise PolicyError(f"read {path}: {e}") from None
    return sources


def split_sources(sources: Iterable[Source]) -> tuple[list[Source], list[Source], list[Source]]:
    """(policy modules, ``*_test.rego`` modules, data files)."""
    modules, tests, data = [], [], []
    for name, text in sources:
        if name.endswith(TEST_SUFFIX):
            tests.append((name, text))
        elif name.endswith(REGO_SUFFIX):
            modules.append((name, text))
        elif name.endswith(DATA_SUFFIXES):
            data.append((name, text))
    return modules, tests, data


def merge_data_files(files: Iterable[Source], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Deep-merge every data file at the root of ``data``, like ``conftest --data``; conflicts are errors.

    Kubernetes manifests kept beside policies (examples, test inputs) are not data and are skipped.
    """
    merged: dict[str, Any] = dict(base or {})
    for name, text in files:
        document = _load_data_file(name, text)
        if document is not None:
            merged = deep_merge(merged, document, where=name)
    return merged


def _load_data_file(name: str, text: str) -> dict[str, Any] | None:
    try:
        # JSON is YAML: both pass the gateway's limits (size, nodes, aliases, depth); json.loads has none.
        docs = load_values(text)
    except YamlError as e:
        what = "JSON" if name.endswith(".json") else "YAML"
        raise PolicyError(f"data {name}: not valid {what}{f' (line {e.line})' if e.line else ''}: {e}") from None
    docs = [d for d in docs if d is not None]
    if not docs or len(docs) > 1 or _is_manifest(docs[0]):
        return None
    if not isinstance(docs[0], dict):
        raise PolicyError(f"data {name}: expected a mapping at the top level")
    return docs[0]


def _is_manifest(doc: Any) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc


def deep_merge(left: dict[str, Any], right: dict[str, Any], *, where: str = "") -> dict[str, Any]:
    """Objects merge key by key; equal leaves coexist; different leaves at one path are a PolicyError."""
    out = dict(left)
    for key, value in right.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = deep_merge(out[key], value, where=where)
        elif out[key] != value:
            raise PolicyError(f"data {where}: conflicting value for key {key!r}")
    return out
