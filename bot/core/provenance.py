"""Map a finding on a rendered object back to the source line a person edits.

kustomize says which file an object came from (the origin annotation); the loader
knows the line of every field in that file. A field whose rendered value equals the
origin file's value is reported there. A field a build changed is reported where the
change is written: the patch that sets it (strategic merge, JSON 6902 or inline), or
the kustomization key of the transformer that rewrote it (``images``, ``namePrefix``,
``namespace``, ...). Generated objects point at their generator entry.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

from bot.core.field_values import MISSING as _MISSING
from bot.core.field_values import deepest_present as _deepest_present
from bot.core.field_values import doc_position as _position
from bot.core.field_values import value_at as _get
from bot.core.findings import Finding
from bot.core.helm_provenance import locate_in_chart
from bot.core.jsonfields import list_at
from bot.core.kustomization import KustomizationNode
from bot.core.manifests import load_manifest
from bot.core.rendered import RenderedObject, RenderedRoots
from bot.core.resource import FieldPath, Resource, parse_path
from bot.core.waivers import annotation_waivers, waive_by_annotations
from bot.core.workspace import Workspace
from bot.core.yamlpos import LoadLimits, YamlDocument, load_yaml_bytes

Location = tuple[str, int, int]  # file, line, column
_LABEL_AT_LINE = re.compile(r"(?P<label>[^\s,()\"']*#rendered-\d+):\d+")
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Fields a kustomization key rewrites across every object: (key, field path test).
_NAME_KEYS = ("namePrefix", "nameSuffix")


class ProvenanceMap:
    """Finds, per rendered object and field path, the file and line that decided the value."""

    def __init__(self, ws: Workspace, rendered: RenderedRoots, limits: LoadLimits):
        self.ws = ws
        self.rendered = rendered
        self.limits = limits
        self._files: dict[tuple[str, bool], list[Resource]] = {}
        self._docs: dict[str, list[YamlDocument]] = {}

    def remap(self, findings: Iterable[Finding]) -> list[Finding]:
        """Findings on rendered objects moved to their source lines; others unchanged; exact duplicates once."""
        out: list[Finding] = []
        seen: set[tuple[Any, ...]] = set()
        for f in findings:
            obj = self.rendered.objects.get(f.file)
            if obj is not None:
                (file, line, column), note = self._located(obj, parse_path(f.path) if f.path else ())
                f = f.with_(file=file, line=line, column=column, suggestion=None,
                            message=f"{f.message} {note}" if note else f.message)
                waivers, _ = annotation_waivers(obj.resource)  # malformed ones are reported at the file
                if waivers:
                    f = waive_by_annotations([f], waivers)[0]
            if _LABEL_AT_LINE.search(f.message):
                f = f.with_(message=_LABEL_AT_LINE.sub(self._label_text, f.message))
            key = (f.rule, f.file, f.line, f.path, f.resource.key() if f.resource else None)
            if obj is not None and key in seen:
                continue  # the same schema problem, once from the file and once from the rendered object
            seen.add(key)
            out.append(f)
        return out

    def _label_text(self, match: re.Match[str]) -> str:
        obj = self.rendered.objects.get(match.group("label"))
        if obj is None:
            return match.group(0)
        file, line, _ = self.locate(obj, ())
        return f"{file}:{line}"

    def _located(self, obj: RenderedObject, path: FieldPath) -> tuple[Location, str]:
        """`locate`, plus for a Helm object a note saying how its line was found (a template line never is)."""
        if obj.chart is not None:
            return locate_in_chart(obj.chart, obj.template, obj.resource.obj, path, self._documents, self._text)
        return self.locate(obj, path), ""

    def _text(self, file: str) -> str:
        return (self.ws.read(file) or b"").decode("utf-8", "replace")

    def locate(self, obj: RenderedObject, path: FieldPath) -> Location:
        """Where ``path`` of ``obj`` was decided (the object's source document when nothing more precise is known)."""
        if obj.chart is not None:
            return self._located(obj, path)[0]
        root = self.rendered.nodes[obj.root]
        origin = obj.origin
        generator = _generator_kind(origin)
        if generator:
            return self._generator(obj, root, origin, generator)
        origin_path = origin.get("path")
        source_file = _joined(obj.root, origin_path) if isinstance(origin_path, str) else None
        source = self._source_document(source_file, obj.resource) if source_file else None
        present = _deepest_present(obj.resource.obj, path)
        value = _get(obj.resource.obj, present)
        if source is not None:
            in_source = _translate(obj.resource.obj, present, source.obj)
            if in_source is not None:
                source_value = _get(source.obj, in_source)
                if source_value is not _MISSING and (isinstance(value, dict | list) or source_value == value):
                    return (source.file, *source.position(_extend(in_source, path, present)))
        changed = self._patch(obj, present, value, source) or self._transformer(obj, present, value, source)
        if changed is not None:
            return changed
        if source is not None:
            return (source.file, *source.position(()))
        return (root.file, 1, 1)

    # -- where a build changed a field -------------------------------------------------------------------

    def _patch(self, obj: RenderedObject, path: FieldPath, value: Any, source: Resource | None) -> Location | None:
        """The patch that sets ``path`` to the rendered value (patches name their target: identity fields are not theirs)."""
        if path[:2] in (("metadata", "name"), ("metadata", "namespace")):
            return None
        names = {obj.resource.name, *([source.name] if source is not None else [])}
        for node in self._closure(obj.root):
            for patch_file in sorted(node.strategic_merge | node.patch_paths):
                for patch in self._resources(patch_file, is_patch=True):
                    if patch.kind != obj.resource.kind or patch.name not in names:
                        continue
                    in_patch = _translate(obj.resource.obj, path, patch.obj)
                    if in_patch is not None and _sets(_get(patch.obj, in_patch), value):
                        return (patch_file, *patch.position(in_patch))
            for patch_file in sorted(node.json6902 | node.patch_paths):
                found = self._json6902(patch_file, path)
                if found is not None:
                    return found
            found = self._inline_patch(node, obj, path, value, names)
            if found is not None:
                return found
        return None

    def _json6902(self, patch_file: str, path: FieldPath) -> Location | None:
        for doc in self._documents(patch_file):
            if not isinstance(doc.value, list):
                continue
            for i, op in enumerate(doc.value):
                if not isinstance(op, dict) or not isinstance(op.get("path"), str) or op.get("op") == "remove":
                    continue
                target = _pointer(op["path"])
                if target and path[: len(target)] == target:
                    rest = path[len(target):]
                    at = (i, "value", *rest) if "value" in op else (i, "path")
                    return (patch_file, *_position(doc, at))
        return None

    def _inline_patch(
        self, node: KustomizationNode, obj: RenderedObject, path: FieldPath, value: Any, names: set[str]
    ) -> Location | None:
        k = self._kustomization(node)
        if k is None:
            return None
        patches = k.value.get("patches") if isinstance(k.value, dict) else None
        for i, entry in enumerate(patches if isinstance(patches, list) else []):
            text = entry.get("patch") if isinstance(entry, dict) else None
            if not isinstance(text, str):
                continue
            loaded = load_manifest(node.file, text.encode(), self.limits, is_patch=True).resources
            for patch in loaded:
                if patch.kind == obj.resource.kind and (patch.name in names or not patch.name):
                    in_patch = _translate(obj.resource.obj, path, patch.obj)
                    if in_patch is not None and _sets(_get(patch.obj, in_patch), value):
                        return (node.file, *_position(k, ("patches", i, "patch")))
        return None

    def _transformer(self, obj: RenderedObject, path: FieldPath, value: Any, source: Resource | None) -> Location | None:
        """The kustomization key whose transformer rewrites this kind of field, nearest the root first."""
        keys = _transformer_keys(path)
        for node in self._closure(obj.root):
            k = self._kustomization(node)
            if k is None or not isinstance(k.value, dict):
                continue
            for key in keys:
                if key not in k.value:
                    continue
                if key == "images":
                    return (node.file, *_position(k, _image_entry(k.value["images"], _get_or(source, path, value))))
                return (node.file, *_position(k, (key,)))
        return None

    def _generator(self, obj: RenderedObject, root: KustomizationNode, origin: dict[str, Any], kind: str) -> Location:
        configured = origin.get("configuredIn")
        file = _joined(obj.root, configured) if isinstance(configured, str) else root.file
        node = next((n for n in self._closure(obj.root) if n.file == file), root)
        k = self._kustomization(node)
        key = "secretGenerator" if kind == "SecretGenerator" else "configMapGenerator"
        if k is None or not isinstance(k.value, dict):
            return (node.file, 1, 1)
        entries = list_at(k.value, key)
        best = max(
            (i for i, e in enumerate(entries) if isinstance(e, dict) and str(e.get("name", "")) in obj.resource.name),
            key=lambda i: len(str(entries[i].get("name", ""))), default=None,
        )
        return (node.file, *_position(k, (key,) if best is None else (key, best)))

    # -- reading sources (each file once per evaluation) -------------------------------------------------

    def _closure(self, root: str) -> list[KustomizationNode]:
        return [self.rendered.nodes[d] for d in self.rendered.closures.get(root, [root]) if d in self.rendered.nodes]

    def _resources(self, file: str, *, is_patch: bool = False) -> list[Resource]:
        key = (file, is_patch)
        if key not in self._files:
            data = self.ws.read(file)
            self._files[key] = load_manifest(file, data, self.limits, is_patch=is_patch).resources if data else []
        return self._files[key]

    def _documents(self, file: str) -> list[YamlDocument]:
        if file not in self._docs:
            data = self.ws.read(file)
            self._docs[file] = load_yaml_bytes(data, self.limits).documents if data else []
        return self._docs[file]

    def _kustomization(self, node: KustomizationNode) -> YamlDocument | None:
        docs = self._documents(node.file)
        return docs[0] if docs else None

    def _source_document(self, file: str, rendered: Resource) -> Resource | None:
        """The document of ``file`` the object came from: same kind, the longest name the rendered name contains."""
        candidates = [r for r in self._resources(file) if r.kind == rendered.kind]
        named = [r for r in candidates if r.name and r.name in rendered.name]
        if named:
            return max(named, key=lambda r: (r.name == rendered.name, len(r.name)))
        return candidates[0] if len(candidates) == 1 else None


def _sets(patched: Any, rendered: Any) -> bool:
    """A patch value that ends up in the output: the same scalar, or a mapping/list merged into it."""
    if patched is _MISSING:
        return False
    return isinstance(patched, dict | list) or patched == rendered


def _generator_kind(origin: dict[str, Any]) -> str:
    by = origin.get("configuredBy")
    kind = by.get("kind") if isinstance(by, dict) else None
    return kind if kind in ("ConfigMapGenerator", "SecretGenerator") else ""


def _transformer_keys(path: FieldPath) -> tuple[str, ...]:
    if len(path) >= 2 and path[-1] == "image" and any(p in _CONTAINER_LISTS for p in path):
        return ("images",)
    if path[:2] == ("metadata", "name"):
        return _NAME_KEYS
    if path[:2] == ("metadata", "namespace"):
        return ("namespace",)
    if "labels" in path or "selector" in path:
        return ("labels", "commonLabels")
    if path[:2] == ("metadata", "annotations"):
        return ("commonAnnotations",)
    if path[-1:] == ("replicas",):
        return ("replicas",)
    return ()


def _image_entry(images: Any, original: Any) -> FieldPath:
    """The ``images`` entry that names the original image (``nginx`` for ``nginx:1.25``), else the key."""
    if isinstance(images, list) and isinstance(original, str):
        name = re.split(r"[@]", original)[0]
        name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        for i, entry in enumerate(images):
            if isinstance(entry, dict) and entry.get("name") == name:
                return ("images", i)
    return ("images",)


def _get_or(source: Resource | None, path: FieldPath, fallback: Any) -> Any:
    if source is None:
        return fallback
    value = _get(source.obj, path)
    return fallback if value is _MISSING else value


def _joined(root: str, relative: str) -> str:
    return posixpath.normpath(posixpath.join(root, relative)).removeprefix("./")


def _extend(translated: FieldPath, full: FieldPath, present: FieldPath) -> FieldPath:
    """The translated present part plus the missing rest (positions fall back to the nearest ancestor)."""
    return (*translated, *full[len(present):])


def _translate(rendered: Any, path: FieldPath, other: Any) -> FieldPath | None:
    """``path`` of the rendered object as a path in ``other``: list items are matched by ``name`` when they have one."""
    out: list[str | int] = []
    for part in path:
        if isinstance(part, int):
            if not isinstance(rendered, list) or not isinstance(other, list) or part >= len(rendered):
                return None
            item = rendered[part]
            name = item.get("name") if isinstance(item, dict) else None
            if name is not None:
                index = next((i for i, o in enumerate(other) if isinstance(o, dict) and o.get("name") == name), None)
            else:
                index = part if part < len(other) else None
            if index is None:
                return None
            out.append(index)
            rendered, other = item, other[index]
        else:
            if not isinstance(rendered, dict) or not isinstance(other, dict) or part not in other:
                return (*out, *path[len(out):]) if isinstance(other, dict) else None
            out.append(part)
            rendered, other = rendered.get(part), other[part]
    return tuple(out)


def _pointer(text: str) -> FieldPath:
    """A JSON pointer (``/spec/containers/0/image``) as a field path."""
    parts: list[str | int] = []
    for raw in text.strip().lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if part == "-":
            break
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)
