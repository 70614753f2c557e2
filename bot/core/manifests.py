"""Kubernetes objects from manifest files, with exact positions; bad input becomes parse findings."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.core.classify import Classifier, FileKind, skip_reason
from bot.core.findings import Finding, ResourceRef, Severity, Source
from bot.core.resource import FieldPath, Resource, format_path
from bot.core.workspace import Workspace
from bot.core.yamlpos import (
    DEFAULT_LIMITS,
    YAML_SYNTAX,
    LoadLimits,
    YamlDocument,
    YamlProblem,
    YamlStream,
    decode_text,
    load_yaml,
    too_large,
)

__all__ = [
    "DEFAULT_LIMITS",
    "MISSING_APIVERSION_OR_KIND",
    "NOT_AN_OBJECT",
    "NOT_KUBERNETES",
    "LoadLimits",
    "LoadResult",
    "load_manifest",
    "load_workspace",
]

NOT_AN_OBJECT = "parse/not-an-object"
MISSING_APIVERSION_OR_KIND = "parse/missing-apiversion-or-kind"

NOT_KUBERNETES = "no apiVersion/kind: not a Kubernetes object"
NOT_A_MAPPING = "not a mapping: not a Kubernetes object"
JSON6902_PATCH = "JSON 6902 patch"
GO_TEMPLATE = (
    "looks like a Go/Helm template ({{ ... }}), not plain YAML: rendered elsewhere, not validated here"
)
FILE_MISSING = "not present in this tree"
EMPTY_FILE = "empty file (no YAML or JSON document): nothing to check"

# What a Kubernetes apiVersion looks like: "v1", "apps/v1", "example.com/v1beta2".
_API_VERSION_SHAPE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]*)?$")
_KIND_SHAPE = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@dataclass
class LoadResult:
    """What loading produced: objects, parse findings, and files deliberately left alone."""

    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # source=parse, severity error, with file + line
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def extend(self, other: LoadResult) -> None:
        self.resources.extend(other.resources)
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)


def load_manifest(
    path: str, data: bytes, limits: LoadLimits = DEFAULT_LIMITS, *, is_patch: bool = False
) -> LoadResult:
    """Every Kubernetes object in one ``.yaml``/``.yml``/``.json`` file (multi-document, ``kind: List``).

    Never raises for bad input. A broken document becomes a finding and the others
    still load. A file whose documents are none of them Kubernetes objects is noted once
    in ``skipped`` (each file at most once, so callers can count checked files).
    """
    text = decode_text(data, limits)
    if isinstance(text, YamlProblem):
        return LoadResult(findings=[parse_finding(path, text)])
    if not text.strip():  # an empty .json is not a syntax error: there is simply nothing in it
        return LoadResult(skipped=[(path, EMPTY_FILE)])
    stream = load_yaml(text, limits)
    if path.lower().endswith(".json"):
        stream = _checked_as_json(text, stream)
    if _is_go_template(text, stream):
        return LoadResult(skipped=[(path, GO_TEMPLATE)])
    result = LoadResult(findings=[parse_finding(path, p) for p in stream.problems])
    if _is_json6902_patch(stream):
        result.skipped.append((path, JSON6902_PATCH))
        return result
    if not stream.documents and not stream.problems:
        result.skipped.append((path, EMPTY_FILE))  # only comments or document markers
        return result
    looks_like_manifest = any(_is_object(doc.value) for doc in stream.documents)
    not_kubernetes = 0
    reasons: list[str] = []
    for doc in stream.documents:
        value = doc.value
        if isinstance(value, dict):
            shape_problem = _not_kubernetes_shape(value)
            if shape_problem:
                not_kubernetes += 1
                reasons.append(shape_problem)
            else:
                result.extend(_resources_of(path, doc, is_patch))
        elif looks_like_manifest or _holds_objects(value):
            result.findings.append(_not_an_object(path, doc))
        else:
            not_kubernetes += 1
    if not_kubernetes and not_kubernetes == len(stream.documents):
        result.skipped.append((path, reasons[0] if reasons else _skip_reason(stream)))
    return result


def _not_kubernetes_shape(value: dict[str, Any]) -> str:
    """Why a mapping is not a Kubernetes object at all ("" when it is one, or a broken one worth a finding).

    Both apiVersion and kind: an object. Neither: not one. Only one of them: an object missing
    the other when the one present looks like Kubernetes and there is ``metadata``; otherwise
    another tool's file that happens to use the word (Grafana provisioning: ``apiVersion: 1``).
    """
    has_version, has_kind = "apiVersion" in value, "kind" in value
    if has_version and has_kind:
        return ""
    if not has_version and not has_kind:
        return NOT_KUBERNETES
    k8s_metadata = isinstance(value.get("metadata"), dict)
    if has_version:
        version = value.get("apiVersion")
        if k8s_metadata and (version is None or version == "" or (isinstance(version, str) and _API_VERSION_SHAPE.match(version))):
            return ""
        why = "with no metadata" if not k8s_metadata else "is not a Kubernetes group/version"
        return (
            f"no kind, and apiVersion {json.dumps(version, default=str)} {why}: not a Kubernetes object "
            "(another tool's file, e.g. Grafana provisioning); not validated"
        )
    kind = value.get("kind")
    if k8s_metadata and (kind is None or kind == "" or (isinstance(kind, str) and _KIND_SHAPE.match(kind))):
        return ""
    return (
        f"no apiVersion, and kind {json.dumps(kind, default=str)} without Kubernetes metadata: "
        "not a Kubernetes object (another tool's file); not validated"
    )


def load_workspace(
    ws: Workspace,
    paths: Iterable[str] | None = None,
    limits: LoadLimits = DEFAULT_LIMITS,
    patch_files: Collection[str] = frozenset(),
) -> LoadResult:
    """Load every manifest of ``ws`` (or of ``paths``); other files are skipped with the reason why.

    Walking the whole tree, files that are not YAML/JSON at all are not candidates and
    are left out silently; when ``paths`` names them, they are reported as skipped.
    """
    explicit = paths is not None
    classifier = Classifier(ws.paths)
    result = LoadResult()
    for path in sorted({p.strip("/") for p in paths}) if paths is not None else ws.paths:
        # A kustomization that lists a file as a patch says what it is, wherever it lives (even in a chart).
        kind = FileKind.MANIFEST if path in patch_files else classifier.classify(path)
        if kind is not FileKind.MANIFEST:
            if explicit or kind is not FileKind.NOT_YAML:
                result.skipped.append((path, skip_reason(kind)))
            continue
        size = ws.size(path)
        if size is not None and size > limits.max_bytes:  # known from the listing: never fetched
            result.findings.append(parse_finding(path, too_large(size, limits)))
            continue
        data = ws.read(path)
        if data is None:
            result.skipped.append((path, FILE_MISSING))
            continue
        result.extend(load_manifest(path, data, limits, is_patch=path in patch_files))
    return result


def _resources_of(path: str, doc: YamlDocument, is_patch: bool) -> LoadResult:
    obj: dict[str, Any] = doc.value
    if _is_list_kind(obj):
        return _list_items(path, doc, is_patch)
    resource = Resource(obj, path, doc.index, doc.line, doc.positions, is_patch)
    return _checked(resource)


def _checked(resource: Resource) -> LoadResult:
    """The resource, or a finding when it has only one of apiVersion and kind."""
    obj = resource.obj
    if _is_object(obj):
        return LoadResult(resources=[resource])
    missing = "apiVersion" if not _is_name(obj.get("apiVersion")) else "kind"
    line, column = resource.position((missing,))
    return LoadResult(
        findings=[
            Finding(
                rule=MISSING_APIVERSION_OR_KIND,
                severity=Severity.ERROR,
                message=f"The object has no {missing}; add {missing} so it can be identified and validated.",
                file=resource.file,
                line=line,
                column=column,
                source=Source.PARSE,
                resource=ResourceRef(resource.api_version, resource.kind, resource.namespace, resource.name),
            )
        ]
    )


def _is_list_kind(obj: dict[str, Any]) -> bool:
    """``kind: List`` or a typed list such as ``DeploymentList``, but not a CRD kind that ends in "List"."""
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind.endswith("List") or not isinstance(obj.get("items"), list):
        return False
    return kind == "List" or set(obj) <= {"apiVersion", "kind", "metadata", "items"}


def _list_items(path: str, doc: YamlDocument, is_patch: bool) -> LoadResult:
    result = LoadResult()
    item_positions = _positions_by_item(doc.positions)
    for i, item in enumerate(doc.value["items"]):
        positions = item_positions.get(i) or {(): (doc.line, 1)}
        line = positions[()][0]
        if not isinstance(item, dict):
            item_doc = YamlDocument(doc.index, item, positions, line)
            result.findings.append(_not_an_object(path, item_doc, f"item {i} of the list"))
            continue
        result.extend(_checked(Resource(item, path, doc.index, line, positions, is_patch)))
    return result


def _positions_by_item(
    positions: dict[FieldPath, tuple[int, int]],
) -> dict[int, dict[FieldPath, tuple[int, int]]]:
    """Positions under ``items[i]``, keyed from each item's root, in one pass (Lists can be large)."""
    by_item: dict[int, dict[FieldPath, tuple[int, int]]] = {}
    for path, position in positions.items():
        if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
            by_item.setdefault(path[1], {})[path[2:]] = position
    return by_item


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and _is_name(value.get("apiVersion")) and _is_name(value.get("kind"))


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _holds_objects(value: Any) -> bool:
    """A top-level list of Kubernetes objects: someone forgot ``kind: List`` or wrote ``- apiVersion:``."""
    return isinstance(value, list) and any(_is_object(item) for item in value)


def _is_json6902_patch(stream: YamlStream) -> bool:
    """A JSON 6902 patch is a list of ``{op, path}`` operations, not an object."""
    docs = stream.documents
    return bool(docs) and all(
        isinstance(d.value, list) and d.value and all(isinstance(op, dict) and "op" in op for op in d.value)
        for d in docs
    )


def _not_an_object(path: str, doc: YamlDocument, what: str = "") -> Finding:
    shape = "a list" if isinstance(doc.value, list) else "a single value"
    subject = what or f"document {doc.index + 1}"
    return Finding(
        rule=NOT_AN_OBJECT,
        severity=Severity.ERROR,
        message=f"{subject[:1].upper()}{subject[1:]} is {shape}, not a Kubernetes object; make it a mapping "
        f"with apiVersion and kind (or wrap several objects in kind: List).",
        file=path,
        line=doc.line,
        column=doc.positions.get((), (doc.line, 1))[1],
        source=Source.PARSE,
    )


def _skip_reason(stream: YamlStream) -> str:
    return NOT_KUBERNETES if any(isinstance(d.value, dict) for d in stream.documents) else NOT_A_MAPPING


def _is_go_template(text: str, stream: YamlStream) -> bool:
    """A syntax error next to ``{{``: a Helm or Go template outside a chart, not broken YAML."""
    if "{{" not in text:
        return False
    lines = text.splitlines()
    for problem in stream.problems:
        if problem.rule == YAML_SYNTAX and any(
            "{{" in line for line in lines[max(problem.line - 2, 0) : problem.line + 1]
        ):
            return True
    return False


def _checked_as_json(text: str, yaml_stream: YamlStream) -> YamlStream:
    """A ``.json`` file must be JSON: YAML is laxer (``{"kind": }`` reads as null), so parse it strictly too.

    When only YAML 1.1 stumbles (tabs, some escapes) the JSON parser's value is used,
    with the document start as the only position.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        problem = YamlProblem(
            YAML_SYNTAX, f"JSON syntax error: {err.msg}; fix the JSON here.", err.lineno, err.colno, 0
        )
        return YamlStream(problems=[problem])
    except RecursionError:
        return yaml_stream  # nested too deeply for json: the YAML loader already said so
    if not any(p.rule == YAML_SYNTAX for p in yaml_stream.problems):
        return yaml_stream
    start = len(text) - len(text.lstrip())
    line = text.count("\n", 0, start) + 1
    return YamlStream(documents=[YamlDocument(0, value, {(): (line, 1)}, line)])


MAX_PARSE_MESSAGE_CHARS = 1000
MAX_FIELD_PATH_CHARS = 200


def parse_finding(path: str, problem: YamlProblem) -> Finding:
    """The finding of a parse problem; its text is bounded, whatever scalar the file holds."""
    return Finding(
        rule=problem.rule,
        severity=Severity.ERROR,
        message=_clip(problem.message, MAX_PARSE_MESSAGE_CHARS),
        file=path,
        line=problem.line,
        column=problem.column,
        source=Source.PARSE,
        path=_clip(format_path(problem.path), MAX_FIELD_PATH_CHARS),
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
