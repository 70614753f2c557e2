"""The one kustomization reader: what a build reads, which files are patches, and what makes it unsafe.

Core (patch discovery) and plan (rendering) share it, so "remote", "outside the
repository" and "cannot be analysed" mean one thing everywhere. Anything the
reader cannot fully understand is a problem: the plan refuses to render it
(fail closed), it never guesses.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.classify import KUSTOMIZATION_NAMES
from bot.core.jsonfields import mapping_at
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits, YamlProblem, load_yaml_bytes

# kustomize's own precedence when a directory has more than one.
KUSTOMIZATION_ORDER = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# A kustomization is a short list of references: anything larger is not analysed, so not rendered.
MAX_KUSTOMIZATION_BYTES = 256 * 1024

# A reference kustomize would fetch over the network: URLs, go-getter, scp-style git, remote subdirectories.
_REMOTE_MARKERS = ("://", "//", "git@", "git::", "?ref=", "?version=", "?timeout=", "?submodules=")
_REMOTE_PREFIXES = ("github.com/", "gitlab.com/", "bitbucket.org/")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # http:, ssh:, file:, s3: ... (even without //)
_HOST_FIRST_SEGMENT = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?$")

# Plugin configs whose `config.kubernetes.io/function` (or legacy) annotation asks for a container or exec.
_FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")

_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge")
_PATH_MAPPINGS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")
_PLUGINS = ("generators", "transformers", "validators")
_HELM = ("helmCharts", "helmChartInflationGenerator", "helmGlobals")
# Fields that name no file: accepted with any value (kustomize validates their content itself).
_INERT = frozenset({
    "apiVersion", "kind", "metadata", "namespace", "namePrefix", "nameSuffix", "commonLabels", "labels",
    "commonAnnotations", "images", "imageTags", "replicas", "vars", "generatorOptions", "buildMetadata",
    "sortOptions",
})
KNOWN_FIELDS = frozenset({*_INERT, *_PATH_LISTS, *_PATH_MAPPINGS, *_GENERATORS, *_PLUGINS, *_HELM, "openapi"})


@dataclass
class KustomizationNode:
    """One kustomization as read: the files and kustomizations its build uses, its patches, its problems."""

    directory: str  # "" for the tree root
    file: str
    kind: str = "Kustomization"  # Kustomization | Component
    files: set[str] = field(default_factory=set)  # files its build reads itself (its own file included)
    includes: set[str] = field(default_factory=set)  # directories of kustomizations it builds in
    strategic_merge: set[str] = field(default_factory=set)  # tree files named as strategic-merge patches
    json6902: set[str] = field(default_factory=set)  # tree files named as JSON 6902 patches
    patch_paths: set[str] = field(default_factory=set)  # `patches[].path` files: either kind, told by content
    resources: set[str] = field(default_factory=set)  # tree files it builds in as objects (resources/bases/components)
    plugin_config_files: set[str] = field(default_factory=set)  # generators/transformers/validators config files
    problems: list[str] = field(default_factory=list)  # why building it would be unsafe; empty: safe
    yaml_problems: list[YamlProblem] = field(default_factory=list)  # the file does not load (core reports these)


class KustomizationTree:
    """A tree's kustomizations, found from the listing alone and read one by one on demand (then kept)."""

    def __init__(self, ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS):
        self.ws = ws
        self.limits = limits
        self.paths = frozenset(ws.paths)
        self.directories = directories_of(self.paths)
        self.files_by_directory = kustomization_file_per_directory(self.paths)
        self.kustomization_directories = frozenset(self.files_by_directory)  # known before any node is read
        self._nodes: dict[str, KustomizationNode] = {}

    def is_kustomization(self, directory: str) -> bool:
        return directory in self.kustomization_directories

    def node(self, directory: str) -> KustomizationNode | None:
        """The kustomization in ``directory`` (read on first use), or None if there is none."""
        file = self.files_by_directory.get(directory)
        if file is None:
            return None
        if directory not in self._nodes:
            self._nodes[directory] = read_kustomization(self, directory, file)
        return self._nodes[directory]

    def all_nodes(self) -> dict[str, KustomizationNode]:
        """Every kustomization of the tree: reads them all (whole-tree checks and plans only)."""
        return {d: n for d in sorted(self.kustomization_directories) if (n := self.node(d)) is not None}

    def read_nodes(self) -> dict[str, KustomizationNode]:
        """The kustomizations read so far."""
        return dict(self._nodes)


def read_kustomization(tree: KustomizationTree, directory: str, file: str) -> KustomizationNode:
    """Read one kustomization file; every reason not to build it lands in ``problems``."""
    node = KustomizationNode(directory, file, files={file})
    size = tree.ws.size(file)
    if size is not None and size > MAX_KUSTOMIZATION_BYTES:
        node.problems.append(f"{file}: {size:,} bytes, over the {MAX_KUSTOMIZATION_BYTES:,}-byte limit for "
                             "a kustomization: it cannot be analysed, so it is not rendered")
        return node
    data = tree.ws.read(file)
    if data is None:
        node.problems.append(f"{file}: cannot be read, so it is not rendered")
        return node
    if len(data) > MAX_KUSTOMIZATION_BYTES:
        node.problems.append(f"{file}: {len(data):,} bytes, over the {MAX_KUSTOMIZATION_BYTES:,}-byte limit for "
                             "a kustomization: it cannot be analysed, so it is not rendered")
        return node
    stream = load_yaml_bytes(data, tree.limits)
    node.yaml_problems = list(stream.problems)
    if stream.problems:
        first = stream.problems[0]
        where = f" (line {first.line})" if first.line else ""
        node.problems.append(f"{file}: cannot be analysed{where}: {first.message}; it is not rendered")
        return node
    if len(stream.documents) > 1:
        node.problems.append(f"{file}: holds {len(stream.documents)} YAML documents; a kustomization is one "
                             "document, so it cannot be analysed and is not rendered")
        return node
    value = stream.documents[0].value if stream.documents else {}
    if value is None:
        value = {}
    if not isinstance(value, dict):
        node.problems.append(f"{file}: is not a mapping of kustomization fields, so it is not rendered")
        return node
    _Reader(tree, node).read(value)
    return node


class _Reader:
    """Sorts the entries of one kustomization into files, included kustomizations, patches and problems."""

    def __init__(self, tree: KustomizationTree, node: KustomizationNode):
        self.tree = tree
        self.node = node

    def read(self, k: dict[str, Any]) -> None:
        unknown = sorted(str(key) for key in k if key not in KNOWN_FIELDS)
        if unknown:
            self.problem(f"unknown field {unknown[0]!r}: the bot cannot analyse it, so the build is not run")
        kind = k.get("kind")
        if kind not in (None, "Kustomization", "Component"):
            self.problem(f"kind {kind!r} is not a Kustomization or Component")
        self.node.kind = "Component" if kind == "Component" else "Kustomization"
        for fieldname in ("resources", "bases", "components"):
            for entry in self.strings(k, fieldname):
                resolved = self.reference(fieldname, entry, may_be_directory=True)
                if resolved is not None and resolved in self.tree.paths:
                    self.node.resources.add(resolved)
        for entry in self.strings(k, "patchesStrategicMerge"):
            if "\n" in entry:  # multi-line entries are inline patches
                continue
            self.add_patch(self.reference("patchesStrategicMerge", entry), self.node.strategic_merge)
        for fieldname in _PATH_MAPPINGS:
            for item in self.mappings(k, fieldname):
                if "path" not in item:
                    continue
                if not isinstance(item["path"], str):
                    self.problem(f"{fieldname}: path {item['path']!r} is not a string")
                    continue
                resolved = self.reference(fieldname, item["path"])
                if fieldname == "patches":
                    self.add_patch(resolved, self.node.patch_paths)
                elif fieldname == "patchesJson6902":
                    self.add_patch(resolved, self.node.json6902)
        for fieldname in ("crds", "configurations"):
            for entry in self.strings(k, fieldname):
                self.reference(fieldname, entry)
        self.generators(k)
        openapi = k.get("openapi")
        if openapi is not None:
            if not isinstance(openapi, dict) or not isinstance(openapi.get("path", ""), str):
                self.problem("openapi: expected a mapping with a string path")
            elif openapi.get("path"):
                self.reference("openapi", openapi["path"])
        for fieldname in _PLUGINS:
            for entry in self.entries(k, fieldname):
                self.plugin_entry(fieldname, entry)
        for fieldname in _HELM:
            if k.get(fieldname):
                self.problem(f"{fieldname}: Helm charts need --enable-helm, which the bot never passes")

    def generators(self, k: dict[str, Any]) -> None:
        """configMapGenerator / secretGenerator: their files and env files must stay inside the root."""
        for fieldname in _GENERATORS:
            for generator in self.mappings(k, fieldname):
                items: list[tuple[str, Any]] = [("files", v) for v in _list_or_problem(self, fieldname, generator, "files")]
                items += [("envs", v) for v in _list_or_problem(self, fieldname, generator, "envs")]
                if generator.get("env") is not None:
                    items.append(("env", generator["env"]))
                for key, item in items:
                    if not isinstance(item, str):
                        self.problem(f"{fieldname}: {key} entry {item!r} is not a string")
                        continue
                    path = item.split("=", 1)[1] if key == "files" and "=" in item else item
                    resolved = self.reference(fieldname, path)
                    if resolved is not None and not _inside(resolved, self.node.directory):
                        self.problem(f"{fieldname}: {key} entry {item!r} is outside the kustomization's directory "
                                     f"{self.node.directory or '.'!r}: generators read files under their root only")

    def reference(self, fieldname: str, entry: str, *, may_be_directory: bool = False) -> str | None:
        """Record one path entry; returns the tree path of a local file, None otherwise."""
        entry = entry.strip()
        if not entry:
            return None
        if is_remote(entry, self.tree.paths, self.tree.directories, self.node.directory):
            self.problem(f"{fieldname}: remote reference {entry!r}: remote bases and resources are never fetched")
            return None
        resolved = resolve_reference(self.node.directory, entry)
        if resolved is None:
            self.problem(f"{fieldname}: {entry!r} points outside the repository")
            return None
        if may_be_directory and resolved in self.tree.kustomization_directories:
            self.node.includes.add(resolved)
            return None
        if may_be_directory and resolved in self.tree.directories:
            self.problem(f"{fieldname}: {entry!r} is a directory without a kustomization")
            return None
        self.node.files.add(resolved)  # a missing file is kustomize's to report
        return resolved

    def add_patch(self, resolved: str | None, into: set[str]) -> None:
        if resolved is not None and resolved in self.tree.paths:
            into.add(resolved)

    def plugin_entry(self, fieldname: str, entry: Any) -> None:
        """generators/transformers/validators: only kustomize's builtin plugins, configured inline or in files."""
        if isinstance(entry, dict):
            self.check_plugin_config(fieldname, entry, "inline entry")
            return
        if not isinstance(entry, str):
            self.problem(f"{fieldname}: entry {entry!r} is neither a file nor a plugin configuration")
            return
        if "\n" in entry or entry.lstrip().startswith(("apiVersion", "{")):
            self.plugin_configs(fieldname, entry.encode(), "inline entry")
            return
        resolved = self.reference(fieldname, entry)
        if resolved is None:
            return
        if resolved in self.tree.directories:
            self.problem(f"{fieldname}: {entry!r} is a directory; only plugin config files are accepted")
            return
        if resolved in self.tree.paths:
            self.node.plugin_config_files.add(resolved)
        self.plugin_configs(fieldname, self.tree.ws.read(resolved) or b"", resolved)

    def plugin_configs(self, fieldname: str, data: bytes, where: str) -> None:
        stream = load_yaml_bytes(data, self.tree.limits)
        if stream.problems:
            self.problem(f"{fieldname}: {where} cannot be analysed: {stream.problems[0].message}")
            return
        for doc in stream.documents:
            self.check_plugin_config(fieldname, doc.value, where)

    def check_plugin_config(self, fieldname: str, config: Any, where: str) -> None:
        if not isinstance(config, dict):
            self.problem(f"{fieldname}: {where} is not a plugin configuration")
            return
        metadata = mapping_at(config, "metadata")
        annotations = mapping_at(metadata, "annotations")
        api_version, kind = config.get("apiVersion"), config.get("kind")
        if any(a in annotations for a in _FUNCTION_ANNOTATIONS) or kind == "KRMFunction":
            self.problem(f"{fieldname}: {where} runs a KRM function (exec or container): plugins are never run")
        elif api_version != "builtin":
            self.problem(
                f"{fieldname}: {where} configures plugin {api_version}/{kind}: only kustomize's builtin "
                "plugins are allowed (exec and Go plugins are never run)"
            )

    def entries(self, k: dict[str, Any], fieldname: str) -> list[Any]:
        value = k.get(fieldname)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(f"{fieldname}: expected a list, found {type(value).__name__}")
            return []
        return value

    def strings(self, k: dict[str, Any], fieldname: str) -> list[str]:
        out = []
        for entry in self.entries(k, fieldname):
            if isinstance(entry, str):
                out.append(entry)
            else:
                self.problem(f"{fieldname}: entry {entry!r} is not a path")
        return out

    def mappings(self, k: dict[str, Any], fieldname: str) -> list[dict[str, Any]]:
        out = []
        for entry in self.entries(k, fieldname):
            if isinstance(entry, dict):
                out.append(entry)
            else:
                self.problem(f"{fieldname}: entry {entry!r} is not a mapping")
        return out

    def problem(self, text: str) -> None:
        self.node.problems.append(f"{self.node.file}: {text}")


def _list_or_problem(reader: _Reader, fieldname: str, generator: dict[str, Any], key: str) -> list[Any]:
    value = generator.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        reader.problem(f"{fieldname}: {key} must be a list")
        return []
    return value


def is_remote(entry: str, paths: frozenset[str], directories: frozenset[str], base: str) -> bool:
    """Whether kustomize would (try to) fetch ``entry`` from the network instead of reading it from the tree."""
    if any(marker in entry for marker in _REMOTE_MARKERS) or entry.startswith(_REMOTE_PREFIXES):
        return True
    if _SCHEME.match(entry):
        return True
    first = entry.split("/", 1)[0]
    if "/" in entry and _HOST_FIRST_SEGMENT.match(first) and first not in (".", ".."):
        local = posixpath.normpath(posixpath.join(base, entry))
        return local not in paths and local not in directories
    return False


def resolve_reference(base: str, entry: str) -> str | None:
    """``entry`` relative to directory ``base`` as a tree path ("" is the root); None if absolute or leaving it.

    Only regular files of the listing are ever given to kustomize (symlinks are not
    listed), so resolving ``..`` textually is the whole resolution.
    """
    if entry.startswith(("/", "\\", "~")) or "\\" in entry or "\0" in entry:
        return None
    resolved = posixpath.normpath(posixpath.join(base, entry))
    if resolved == ".." or resolved.startswith("../") or resolved.startswith("/"):
        return None
    return "" if resolved == "." else resolved


def _inside(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")


def kustomization_file_per_directory(paths: frozenset[str]) -> dict[str, str]:
    """The file kustomize would read in each directory that has one (its own precedence)."""
    found: dict[str, str] = {}
    for path in sorted(paths):
        name = posixpath.basename(path)
        if name not in KUSTOMIZATION_NAMES:
            continue
        directory = posixpath.dirname(path)
        current = found.get(directory)
        if current is None or KUSTOMIZATION_ORDER.index(name) < KUSTOMIZATION_ORDER.index(posixpath.basename(current)):
            found[directory] = path
    return found


def directories_of(paths: frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for path in paths:
        directory = posixpath.dirname(path)
        while directory and directory not in out:
            out.add(directory)
            directory = posixpath.dirname(directory)
    return frozenset(out)
