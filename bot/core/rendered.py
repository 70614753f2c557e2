"""The rendered verdict: build the kustomize roots in scope and turn their output into judged objects.

Roots are the deploy targets that are kustomizations (top-level ones and those an
Argo CD Application / Flux Kustomization points at); for a change only those whose
build reads a changed file. Each is built by the `Renderer` the front door plugged in,
from a copy of its files whose root kustomization asks kustomize for provenance
(`buildMetadata`), so every rendered object says which file it came from.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.core.charts import ChartRelease
from bot.core.deploy_targets import MAX_SCANNED_FILES, scan_deployer_paths
from bot.core.findings import Finding, Severity, Source
from bot.core.jsonfields import list_at
from bot.core.kustomization import KustomizationNode, KustomizationTree
from bot.core.manifests import load_manifest
from bot.core.masking import mask_secrets
from bot.core.renderer import FAILED, REFUSED, Renderer, RenderOutcome
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.core.yaml_gateway import YamlError, dump_yaml, load_value
from bot.core.yamlpos import LoadLimits

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
PROVENANCE_ANNOTATIONS = (ORIGIN, TRANSFORMATIONS)
BUILD_METADATA = ["originAnnotations", "transformerAnnotations"]
RULE_RENDER_FAILED = "render/failed"  # kustomize ran and failed: the reconciler would fail the same way
RULE_RENDER_SKIPPED = "render/not-rendered"  # refused (unsafe) or impossible here (no binary, limits)
# Builds are subprocesses behind the renderer: threads overlap them well even on 2 cores.
RENDER_WORKERS = 4
MAX_ROOT_FILES = 20_000
MAX_ROOT_BYTES = 64 * 1024 * 1024
_LABEL_MARK = "#rendered-"
# For a change: kustomizations read around a changed file's kustomization to find what includes it.
NEAR_KUSTOMIZATIONS = 32
# Roots (kustomize roots and Helm releases) rendered per evaluation; the rest are judged file by file, with a notice.
DEFAULT_MAX_RENDERED_ROOTS = 50


@dataclass
class RenderedObject:
    """One object of one root's output, with what kustomize said about where it came from."""

    resource: Resource  # judged; its ``file`` is a label (``<root>/#rendered-<n>``) that provenance maps back
    root: str
    origin: dict[str, Any]  # the parsed origin annotation ({} when kustomize gave none)
    transformations: list[dict[str, Any]]
    chart: ChartRelease | None = None  # a Helm release's object (``root`` is then the release's label directory)
    template: str = ""  # for a Helm object: the template file that made it ("" when Helm did not say)


@dataclass
class RenderedRoots:
    """Everything the render stage found: objects to judge, files they replace, roots that failed."""

    objects: dict[str, RenderedObject] = field(default_factory=dict)  # by label
    fed_files: set[str] = field(default_factory=set)  # files read by a rendered root: policies skip them as files
    fallback_files: set[str] = field(default_factory=set)  # files read by a root that failed: judged as files
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    nodes: dict[str, KustomizationNode] = field(default_factory=dict)  # every kustomization read, by directory
    closures: dict[str, list[str]] = field(default_factory=dict)  # root -> kustomization directories, root first

    @property
    def resources(self) -> list[Resource]:
        return [o.resource for o in self.objects.values()]


def is_rendered_label(file: str) -> bool:
    return _LABEL_MARK in file


def rendered_label(root: str, index: int) -> str:
    """The file name a rendered object is judged under (provenance maps it back to a source line)."""
    return posixpath.join(root, f"{_LABEL_MARK}{index}")


def kustomize_roots(ws: Workspace, tree: KustomizationTree, notices: list[str] | None = None) -> list[str]:
    """Deploy targets that are kustomizations: the ones nobody includes, and those a deployer points at.

    When the tree is too large to look for deployers, says so in ``notices`` (never a silent "none").
    """
    nodes = tree.all_nodes()
    included = {d for node in nodes.values() for d in node.includes}
    roots = {d for d, n in nodes.items() if d not in included and n.kind != "Component"}
    inner = set(nodes) - roots
    if inner:  # deployers only add roots when they point at a kustomization something else includes
        found = scan_deployer_paths(ws)
        if found is None:
            _not_scanned(notices, sorted(inner))
        else:
            roots |= {dp.directory for dp in found if dp.directory in nodes}
    return sorted(roots)


def roots_near(tree: KustomizationTree, wanted: set[str]) -> tuple[list[str], list[str]]:
    """For a change: roots whose build may read a ``wanted`` path, reading kustomizations near it only.

    A kustomization reads files in its own directory tree only (the load restrictor), so the
    ones that list a changed file are its directory's ancestors. Who includes those (overlays
    of a base, found anywhere in a sibling tree) is looked for under the highest ancestor
    directory that holds at most `NEAR_KUSTOMIZATIONS` kustomizations, the repository root in
    a small tree: reads stay bounded by that, not by the tree. Returns the roots and the
    kustomizations whose includers were not searched in the whole tree.
    """
    kdirs = sorted(tree.kustomization_directories)
    candidates = {d for p in wanted for d in _ancestors(posixpath.dirname(p)) if d in tree.kustomization_directories}
    frontier, far, searched = set(candidates), [], set()
    while frontier:
        pool: set[str] = set()
        for directory in sorted(frontier):
            if not directory:
                continue  # nothing includes the repository root's kustomization
            level = _widest_level(kdirs, directory)
            if level != "":
                far.append(directory)  # includers above ``level`` (or beside the parent) were not searched
            if level is None or level in searched:
                continue
            searched.add(level)
            pool |= {d for d in kdirs if not level or d == level or d.startswith(level + "/")}
        includers: set[str] = set()
        while True:  # overlays of overlays: until nothing more in the pool includes what is known
            more = {d for d in pool - candidates if (n := tree.node(d)) is not None and n.includes & candidates}
            if not more:
                break
            candidates |= more
            includers |= more
        frontier = includers
    included = {i for d in candidates if (n := tree.node(d)) is not None for i in n.includes}
    roots = sorted(d for d in candidates if d not in included and (n := tree.node(d)) is not None and n.kind != "Component")
    return roots, sorted(set(far) - included)


def deployed_bases(ws: Workspace, tree: KustomizationTree, roots: Sequence[str],
                   notices: list[str] | None = None) -> set[str]:
    """Kustomizations inside the builds of ``roots`` that a deployer also applies directly: each is a root of its own.

    Only looked for when the roots include other kustomizations (the deployer scan reads the tree's manifests,
    batched); a tree too large to scan is said in ``notices``, naming the bases that may be deployed directly.
    """
    inner = {n.directory for r in roots for n in closure(tree, r)[1:] if n.kind != "Component"} - set(roots)
    if not inner:
        return set()
    found = scan_deployer_paths(ws)
    if found is None:
        _not_scanned(notices, sorted(inner))
        return set()
    return {dp.directory for dp in found} & inner


def _not_scanned(notices: list[str] | None, inner: Sequence[str]) -> None:
    """The deployer scan gave up: name the kustomizations a deployer may apply directly, which were not rendered alone."""
    if notices is None:
        return
    shown = ", ".join(d or "." for d in inner[:5]) + (f" and {len(inner) - 5} more" if len(inner) > 5 else "")
    notices.append(
        f"the tree has more than {MAX_SCANNED_FILES} manifests, too many to look for Argo CD Applications and Flux "
        f"Kustomizations: the included kustomizations {shown} were rendered only inside the kustomizations that include them, not as roots a "
        "deployer may apply directly (README: Rendered verdict)"
    )


def _widest_level(kdirs: Sequence[str], directory: str) -> str | None:
    """The highest ancestor of ``directory`` (its parent first, up to the root) holding at most `NEAR_KUSTOMIZATIONS`."""
    widest = None
    for level in _ancestors(posixpath.dirname(directory)):
        if sum(1 for d in kdirs if not level or d == level or d.startswith(level + "/")) > NEAR_KUSTOMIZATIONS:
            break
        widest = level
    return widest


def _ancestors(directory: str) -> list[str]:
    out = [directory]
    while directory:
        directory = posixpath.dirname(directory)
        out.append(directory)
    return out


def closure(tree: KustomizationTree, root: str) -> list[KustomizationNode]:
    """The root's kustomization and every one its build includes, root first, each once."""
    seen: dict[str, KustomizationNode] = {}
    stack = [root]
    while stack:
        current = stack.pop(0)
        node = tree.node(current)
        if node is None or current in seen:
            continue
        seen[current] = node
        stack.extend(sorted(node.includes))
    return list(seen.values())


def render_roots(
    ws: Workspace,
    renderer: Renderer,
    changed: Collection[str] | None,
    limits: LoadLimits,
    max_roots: int = DEFAULT_MAX_RENDERED_ROOTS,
) -> RenderedRoots:
    """Render the roots in scope (all of them, or those whose build reads a ``changed`` path), at most ``max_roots``."""
    tree = KustomizationTree(ws, limits)
    out = RenderedRoots()
    wanted = None if changed is None else {p.strip("/") for p in changed}
    if not tree.kustomization_directories:
        roots: list[str] = []
    elif wanted is None:
        roots = kustomize_roots(ws, tree, out.notices)
    else:
        roots, far = roots_near(tree, wanted)
        roots = sorted({*roots, *deployed_bases(ws, tree, roots, out.notices)})
        if far:
            out.notices.append(
                f"kustomizations that include {', '.join(far[:3])}{' ...' if len(far) > 3 else ''} were looked for "
                f"among up to {NEAR_KUSTOMIZATIONS} kustomizations around it, not in the whole tree; it was "
                "rendered as its own root (README: Rendered verdict)"
            )
    jobs: list[tuple[str, dict[str, bytes]]] = []
    root_files: dict[str, set[str]] = {}
    done: set[str] = set()
    over: list[str] = []
    _prefetch_builds(ws, tree, roots, wanted)
    for root in roots:
        nodes = closure(tree, root)
        files = {f for n in nodes for f in n.files}
        if wanted is not None and not files & wanted:
            continue
        if len(out.closures) >= max_roots:
            over.append(root or ".")
            out.fallback_files |= files
            continue
        out.closures[root] = [n.directory for n in nodes]
        root_files[root] = files
        problems = [p for n in nodes for p in n.problems]
        if problems:
            out.findings.append(_not_rendered(nodes[0], REFUSED, "; ".join(dict.fromkeys(problems))))
            continue
        inputs = _inputs(ws, nodes[0], sorted(f for f in files if f in tree.paths), limits)
        if isinstance(inputs, str):
            out.findings.append(_not_rendered(nodes[0], REFUSED, inputs))
            continue
        jobs.append((root, inputs))
    out.nodes = tree.read_nodes()
    with ThreadPoolExecutor(max_workers=RENDER_WORKERS) as pool:
        outcomes = list(pool.map(lambda job: renderer.render(*job), jobs))
    for (root, inputs), outcome in zip(jobs, outcomes, strict=True):
        node = tree.node(root)
        assert node is not None
        if not outcome.rendered:
            out.findings.append(_not_rendered(node, outcome.status, outcome.reason))
            continue
        if _add_objects(out, root, node, outcome, limits):
            out.fed_files |= set(inputs)
            done.add(root)
    for root, files in root_files.items():
        if root not in done:
            out.fallback_files |= files
    if over:
        out.notices.append(over_cap_notice(over, max_roots))
    failed = sorted({f.file for f in out.findings})
    if failed:
        out.notices.append(
            f"{len(failed)} kustomize root(s) could not be rendered ({', '.join(failed)}): the files they read "
            "were judged file by file instead (README: Rendered verdict)"
        )
    rendered = len(out.closures) - len(failed)
    if rendered:
        out.notices.append(
            f"rendered {rendered} kustomize root(s): policies judged their {len(out.objects)} rendered objects, "
            "reported at the source lines they come from (README: Rendered verdict)"
        )
    return out


def over_cap_notice(over: Sequence[str], max_roots: int) -> str:
    """Roots past the cap are never skipped silently: the report names them (the first 20)."""
    shown = ", ".join(over[:20]) + (f" and {len(over) - 20} more" if len(over) > 20 else "")
    return (f"more than {max_roots} roots to render (GITOPS_BOT_MAX_RENDERED_ROOTS): {len(over)} were judged file by "
            f"file instead of as rendered: {shown} (README: Rendered verdict)")


def _inputs(ws: Workspace, root: KustomizationNode, paths: Sequence[str], limits: LoadLimits) -> dict[str, bytes] | str:
    """The bytes the build reads, the root kustomization asking for provenance; a reason when too large."""
    files = read_bounded(ws, paths, f"{root.file}: the build")
    if isinstance(files, str):
        return files
    files[root.file] = with_build_metadata(files.get(root.file, b""), limits)
    return files


def read_bounded(ws: Workspace, paths: Sequence[str], what: str) -> dict[str, bytes] | str:
    """The bytes of ``paths`` for one render, or why not: past `MAX_ROOT_FILES` files or `MAX_ROOT_BYTES` bytes."""
    if len(paths) > MAX_ROOT_FILES:
        return f"{what} reads more than {MAX_ROOT_FILES} files, so it is not rendered"
    files: dict[str, bytes] = {}
    total = 0
    for path in paths:
        files[path] = ws.read(path) or b""
        total += len(files[path])
        if total > MAX_ROOT_BYTES:
            return f"{what} reads more than {MAX_ROOT_BYTES} bytes, so it is not rendered"
    return files


def _prefetch_builds(ws: Workspace, tree: KustomizationTree, roots: Sequence[str], wanted: set[str] | None) -> None:
    """Say up front which files the builds below read (the App then fetches them in one request, not one per root)."""
    reads: set[str] = set()
    for root in roots:
        nodes = closure(tree, root)
        files = {f for n in nodes for f in n.files}
        listed = {f for f in files if f in tree.paths}
        if (wanted is None or files & wanted) and not any(n.problems for n in nodes) and len(listed) <= MAX_ROOT_FILES \
                and sum(ws.size(f) or 0 for f in listed) <= MAX_ROOT_BYTES:
            reads |= listed
    ws.prefetch(reads)


def with_build_metadata(data: bytes, limits: LoadLimits) -> bytes:
    """The kustomization with ``buildMetadata: [originAnnotations, transformerAnnotations]`` added.

    The reader has already parsed it (a root with problems is never rendered), so this only re-dumps it.
    """
    try:
        value = load_value(data, limits) or {}
    except YamlError:
        return data  # cannot happen for a root without problems; kustomize reports it
    if not isinstance(value, dict):
        return data
    existing = list_at(value, "buildMetadata")
    value["buildMetadata"] = list(dict.fromkeys([*existing, *BUILD_METADATA]))
    return dump_yaml(value).encode()


def _add_objects(out: RenderedRoots, root: str, node: KustomizationNode, outcome: RenderOutcome, limits: LoadLimits) -> bool:
    label = posixpath.join(root, "(kustomize build)")
    loaded = load_manifest(label, outcome.output, limits)
    if loaded.findings:
        out.findings.append(_not_rendered(node, FAILED, f"the build output does not load: {loaded.findings[0].message}"))
        return False
    for resource in loaded.resources:
        origin, transformations = strip_provenance(resource.obj, limits)
        resource.file = rendered_label(root, len(out.objects))
        out.objects[resource.file] = RenderedObject(resource, root, origin, transformations)
    return True


def strip_provenance(obj: dict[str, Any], limits: LoadLimits) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Remove kustomize's provenance annotations (schemas and policies never see them) and return them parsed."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return {}, []
    origin = _parsed(annotations.pop(ORIGIN, None), limits)
    transformations = _parsed(annotations.pop(TRANSFORMATIONS, None), limits)
    if not annotations and isinstance(metadata, dict):  # (it is: annotations came from it)
        del metadata["annotations"]
    return (origin if isinstance(origin, dict) else {},
            [t for t in transformations if isinstance(t, dict)] if isinstance(transformations, list) else [])


def _parsed(text: Any, limits: LoadLimits) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return load_value(text, limits)
    except YamlError:
        return None


def _not_rendered(node: KustomizationNode, status: str, reason: str) -> Finding:
    """A root that cannot be rendered is a finding at its kustomization: a failed build blocks, a refusal warns."""
    failed = status == FAILED
    what = {REFUSED: "refused to render it", FAILED: "kustomize build failed"}.get(status, "could not render it")
    return Finding(
        rule=RULE_RENDER_FAILED if failed else RULE_RENDER_SKIPPED,
        severity=Severity.ERROR if failed else Severity.WARNING,
        message=mask_secrets(f"kustomize root {node.directory or '.'}: {what}: {reason}; "
                             "its files were judged one by one instead"),
        file=node.file,
        line=1,
        source=Source.CONFIG,
        remediation=("Fix the build error (run `kubectl kustomize` on the directory)." if failed else
                     "Keep the build local and builtin (README: Rendered verdict), or accept the file-by-file view."),
    )
