"""The kustomization reference graph of one tree: which files each kustomization's build reads.

Read statically, without running anything: the same walk finds the roots a
change affects, the files a render needs, and what makes a kustomization unsafe
to build (remote bases, exec/container plugins, Helm, paths leaving the tree).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.classify import KUSTOMIZATION_NAMES
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits, load_yaml_bytes

# kustomize's own precedence when a directory has more than one.
_KUSTOMIZATION_ORDER = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# A reference kustomize would fetch over the network: URLs, go-getter and scp-style git addresses.
_REMOTE_MARKERS = ("://", "git@", "git::", "?ref=", "?version=", "?timeout=", "?submodules=")
_HOST_FIRST_SEGMENT = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?$")

# Plugin configs whose `config.kubernetes.io/function` (or legacy) annotation asks for a container or exec.
_FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")


@dataclass
class KustomizationNode:
    directory: str  # "" for the tree root
    file: str
    kind: str  # Kustomization | Component
    files: set[str] = field(default_factory=set)  # files its build reads itself (its own file included)
    includes: set[str] = field(default_factory=set)  # directories of kustomizations it builds in
    problems: list[str] = field(default_factory=list)  # why building it would be unsafe


class KustomizationGraph:
    """Every kustomization of a tree and what it references; closures are computed on demand."""

    def __init__(self, ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS):
        self.ws = ws
        self.limits = limits
        self.paths = frozenset(ws.paths)
        self.directories = _directories(self.paths)
        files = _kustomization_file_per_directory(self.paths)
        self.kustomization_directories = frozenset(files)  # known before any node is read
        self.nodes: dict[str, KustomizationNode] = {d: self._read_node(d, f) for d, f in files.items()}

    def is_kustomization(self, directory: str) -> bool:
        return directory in self.kustomization_directories

    def included_directories(self) -> set[str]:
        """Kustomizations some other kustomization builds in (so they are not roots themselves)."""
        return {d for node in self.nodes.values() for d in node.includes}

    def top_level(self) -> list[str]:
        """Kustomization directories nobody includes: what a reconciler is pointed at."""
        included = self.included_directories()
        return sorted(d for d, n in self.nodes.items() if d not in included and n.kind != "Component")

    def closure(self, directory: str) -> list[KustomizationNode]:
        """The kustomization in ``directory`` and every one its build includes, each once."""
        seen: dict[str, KustomizationNode] = {}
        stack = [directory]
        while stack:
            current = stack.pop()
            node = self.nodes.get(current)
            if node is None or current in seen:
                continue
            seen[current] = node
            stack.extend(sorted(node.includes))
        return list(seen.values())

    def files_of(self, directory: str) -> set[str]:
        return {f for node in self.closure(directory) for f in node.files}

    def problems_of(self, directory: str) -> list[str]:
        return [p for node in self.closure(directory) for p in node.problems]

    def _read_node(self, directory: str, file: str) -> KustomizationNode:
        node = KustomizationNode(directory, file, "Kustomization", files={file})
        data = self.ws.read(file)
        stream = load_yaml_bytes(data or b"", self.limits)
        if stream.problems or len(stream.documents) != 1 or not isinstance(stream.documents[0].value, dict):
            # kustomize itself says what is wrong; the file is still part of the build
            return node
        kustomization: dict[str, Any] = stream.documents[0].value
        if kustomization.get("kind") == "Component":
            node.kind = "Component"
        _References(self, node).collect(kustomization)
        return node


class _References:
    """Sorts the entries of one kustomization into files, included kustomizations and problems."""

    def __init__(self, graph: KustomizationGraph, node: KustomizationNode):
        self.graph = graph
        self.node = node

    def collect(self, k: dict[str, Any]) -> None:
        for fieldname in ("resources", "bases", "components"):
            for entry in _strings(k.get(fieldname)):
                self.reference(fieldname, entry, may_be_directory=True)
        for entry in _strings(k.get("patchesStrategicMerge")):
            if "\n" not in entry:  # multi-line entries are inline patches
                self.reference("patchesStrategicMerge", entry)
        for fieldname in ("patches", "patchesJson6902", "replacements"):
            for entry in _mappings(k.get(fieldname)):
                if isinstance(entry.get("path"), str):
                    self.reference(fieldname, entry["path"])
        for fieldname in ("configMapGenerator", "secretGenerator"):
            for generator in _mappings(k.get(fieldname)):
                for item in _strings(generator.get("files")):
                    self.reference(fieldname, item.split("=", 1)[1] if "=" in item else item)
                for item in [*_strings(generator.get("envs")), *_strings([generator.get("env")])]:
                    self.reference(fieldname, item)
        for fieldname in ("crds", "configurations"):
            for entry in _strings(k.get(fieldname)):
                self.reference(fieldname, entry)
        openapi = k.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self.reference("openapi", openapi["path"])
        for fieldname in ("generators", "transformers", "validators"):
            for entry in _as_list(k.get(fieldname)):
                self.plugin_entry(fieldname, entry)
        for fieldname in ("helmCharts", "helmChartInflationGenerator", "helmGlobals"):
            if k.get(fieldname):
                self.problem(f"{fieldname}: Helm charts need --enable-helm, which the bot never passes")

    def reference(self, fieldname: str, entry: str, *, may_be_directory: bool = False) -> str | None:
        """Record one path entry; returns the tree path of a local file, None otherwise."""
        entry = entry.strip()
        if not entry:
            return None
        if is_remote(entry, self.graph.paths, self.graph.directories, self.node.directory):
            self.problem(f"{fieldname}: remote reference {entry!r}: remote bases and resources are never fetched")
            return None
        resolved = posixpath.normpath(posixpath.join(self.node.directory, entry))
        if entry.startswith("/") or resolved == ".." or resolved.startswith("../"):
            self.problem(f"{fieldname}: {entry!r} points outside the repository")
            return None
        resolved = "" if resolved == "." else resolved
        if may_be_directory and resolved in self.graph.kustomization_directories:
            self.node.includes.add(resolved)
            return None
        self.node.files.add(resolved)  # a missing file is kustomize's to report
        return resolved

    def plugin_entry(self, fieldname: str, entry: Any) -> None:
        """generators/transformers/validators: only kustomize's builtin plugins, configured inline or in files."""
        if isinstance(entry, dict):
            self.check_plugin_config(fieldname, entry, "inline entry")
            return
        if not isinstance(entry, str):
            return
        if "\n" in entry or entry.lstrip().startswith(("apiVersion", "{")):
            stream = load_yaml_bytes(entry.encode(), self.graph.limits)
            configs = [d.value for d in stream.documents]
            for config in configs:
                self.check_plugin_config(fieldname, config, "inline entry")
            return
        resolved = self.reference(fieldname, entry)
        if resolved is None:
            return
        if resolved in self.graph.directories:
            self.problem(f"{fieldname}: {entry!r} is a directory; only plugin config files are accepted")
            return
        stream = load_yaml_bytes(self.graph.ws.read(resolved) or b"", self.graph.limits)
        for doc in stream.documents:
            self.check_plugin_config(fieldname, doc.value, resolved)

    def check_plugin_config(self, fieldname: str, config: Any, where: str) -> None:
        if not isinstance(config, dict):
            return
        metadata = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
        annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        api_version, kind = config.get("apiVersion"), config.get("kind")
        if any(a in annotations for a in _FUNCTION_ANNOTATIONS) or kind == "KRMFunction":
            self.problem(f"{fieldname}: {where} runs a KRM function (exec or container): plugins are never run")
        elif api_version != "builtin":
            self.problem(
                f"{fieldname}: {where} configures plugin {api_version}/{kind}: only kustomize's builtin "
                "plugins are allowed (exec and Go plugins are never run)"
            )

    def problem(self, text: str) -> None:
        self.node.problems.append(f"{self.node.file}: {text}")


def is_remote(entry: str, paths: frozenset[str], directories: frozenset[str], base: str) -> bool:
    """Whether kustomize would fetch ``entry`` from the network instead of reading it from the tree."""
    if any(marker in entry for marker in _REMOTE_MARKERS) or entry.startswith(("github.com/", "gitlab.com/")):
        return True
    first = entry.split("/", 1)[0]
    if "/" in entry and _HOST_FIRST_SEGMENT.match(first) and first not in (".", ".."):
        local = posixpath.normpath(posixpath.join(base, entry))
        return local not in paths and local not in directories
    return False


def _kustomization_file_per_directory(paths: frozenset[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(paths):
        name = posixpath.basename(path)
        if name not in KUSTOMIZATION_NAMES:
            continue
        directory = posixpath.dirname(path)
        current = found.get(directory)
        if current is None or _KUSTOMIZATION_ORDER.index(name) < _KUSTOMIZATION_ORDER.index(
            posixpath.basename(current)
        ):
            found[directory] = path
    return found


def _directories(paths: frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for path in paths:
        directory = posixpath.dirname(path)
        while directory and directory not in out:
            out.add(directory)
            directory = posixpath.dirname(directory)
    return frozenset(out)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [v for v in _as_list(value) if isinstance(v, str)]


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [v for v in _as_list(value) if isinstance(v, dict)]
