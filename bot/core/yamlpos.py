"""Safe YAML loading within limits that keeps the line and column of every field."""

from __future__ import annotations

import bisect
import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.resource import FieldPath

try:  # libyaml's composer is ~10x faster; the pure-Python one gives the same nodes
    from yaml import CSafeLoader as _NodeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _NodeLoader  # type: ignore[assignment]  # the pure-Python twin of CSafeLoader

# Rule ids of the problems this module reports (Finding.rule in manifests.py).
YAML_SYNTAX = "parse/yaml-syntax"
DUPLICATE_KEY = "parse/duplicate-key"
ALIAS_LIMIT = "parse/alias-limit"
TOO_DEEP = "parse/too-deep"
TOO_LARGE = "parse/too-large"
TOO_MANY_DOCUMENTS = "parse/too-many-documents"
BINARY = "parse/binary"
ENCODING = "parse/encoding"

_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
_MERGE_TAG = _TAG + "merge"

# Characters YAML forbids in a stream (YAML 1.1 "printable"): their presence means "not text".
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Resuming after a syntax error re-reads the rest of the file, so the number of resumes is capped.
MAX_SYNTAX_ERRORS = 20
_DOCUMENT_MARKER = re.compile(r"^---(?:[ \t\r]|$)", re.MULTILINE)


class _FastResolveLoader(_NodeLoader):
    """Implicit tag resolution memoised per scalar value: manifests repeat the same keys and values,
    and PyYAML's resolver (Python, regex per scalar) is otherwise most of the load time."""

    _scalar_tags: dict[tuple[str, bool], str] = {}

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        # (types-PyYAML leaves BaseResolver.resolve unannotated, hence the two ignores below)
        if kind is ScalarNode and implicit[0] and len(value) < 64:
            key = (value, implicit[1])
            tag = self._scalar_tags.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(self._scalar_tags) < 50_000:
                    self._scalar_tags[key] = tag
            return tag
        resolved: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return resolved


@dataclass(frozen=True)
class LoadLimits:
    """Caps that keep one hostile file from costing more than a bounded amount of time and memory."""

    max_bytes: int = 2 * 1024 * 1024  # per file (config: limits.maxFileBytes)
    max_documents: int = 5000  # per file
    max_depth: int = 100  # nested mappings/sequences in one document
    max_nodes: int = 100_000  # values built per document, counting every alias expansion
    allow_aliases: bool = True  # False: any *alias is a problem (files with no need for anchors: the config)


DEFAULT_LIMITS = LoadLimits()


@dataclass
class YamlDocument:
    """One document of a stream as plain Python values, with the position of each field."""

    index: int  # 0-based, counting empty documents too, so it matches the n-th `---` section
    value: Any
    positions: dict[FieldPath, tuple[int, int]]  # 1-based (line, column); () is the document start
    line: int  # first line of the document's content

    @property
    def column(self) -> int:
        return self.positions[()][1]


@dataclass(frozen=True)
class YamlProblem:
    """Why (part of) a stream could not be read; ``rule`` is a ``parse/*`` rule id."""

    rule: str
    message: str
    line: int = 0
    column: int = 0
    doc_index: int | None = None
    path: FieldPath = ()  # the field concerned, when known (a duplicate key)


@dataclass
class YamlStream:
    documents: list[YamlDocument] = field(default_factory=list)
    problems: list[YamlProblem] = field(default_factory=list)


class _Abort(Exception):
    """Stops building one document; carries the problem to report."""

    def __init__(self, rule: str, message: str, node: Node | None, path: FieldPath = ()):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.node = node
        self.path = path


def decode_text(data: bytes, limits: LoadLimits = DEFAULT_LIMITS) -> str | YamlProblem:
    """Bytes -> text, or the problem that makes them unsafe or impossible to read as YAML.

    Accepts UTF-8 (with or without BOM) and UTF-16/32 with a BOM, like the YAML spec.
    The size cap is checked before anything else so a huge file costs nothing.
    """
    if len(data) > limits.max_bytes:
        return too_large(len(data), limits)
    encoding = _bom_encoding(data)
    if encoding is None and b"\x00" in data:
        return _binary_problem(data, data.index(b"\x00"), "NUL bytes")
    try:
        text = data.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as err:
        line, column = _line_and_column(data, err.start)
        return YamlProblem(
            ENCODING,
            f"The file is not valid {encoding or 'UTF-8'} (byte 0x{data[err.start]:02X} on line {line}); "
            f"save it as UTF-8.",
            line,
            column,
        )
    if encoding:
        text = text.lstrip("\ufeff")
    bad = _NOT_TEXT.search(text)
    if bad:
        return _binary_problem(text, bad.start(), f"the control character U+{ord(bad.group()):04X}")
    return text


def _bom_encoding(data: bytes) -> str | None:
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _line_and_column(content: bytes | str, offset: int) -> tuple[int, int]:
    if isinstance(content, bytes):
        line_start, line = content.rfind(b"\n", 0, offset) + 1, content.count(b"\n", 0, offset) + 1
    else:
        line_start, line = content.rfind("\n", 0, offset) + 1, content.count("\n", 0, offset) + 1
    return line, offset - line_start + 1


def too_large(size: int, limits: LoadLimits) -> YamlProblem:
    """Also used before reading, when the size is known from a tree listing."""
    return YamlProblem(
        TOO_LARGE,
        f"The file is {size:,} bytes, over the {limits.max_bytes:,}-byte limit; split it into "
        f"smaller files or raise limits.maxFileBytes in .gitops-bot.yaml.",
        1,
    )


def _binary_problem(content: bytes | str, offset: int, what: str) -> YamlProblem:
    line, column = _line_and_column(content, offset)
    return YamlProblem(
        BINARY,
        f"The file contains {what} (first on line {line}), so it is binary or corrupted, not YAML text; "
        f"remove it or keep binary files out of manifest directories.",
        line,
        column,
    )


def load_yaml_bytes(data: bytes, limits: LoadLimits = DEFAULT_LIMITS) -> YamlStream:
    """Like `load_yaml`, starting from raw file bytes (size, binary and encoding checks first)."""
    text = decode_text(data, limits)
    if isinstance(text, YamlProblem):
        return YamlStream(problems=[text])
    return load_yaml(text, limits)


def load_yaml(text: str, limits: LoadLimits = DEFAULT_LIMITS) -> YamlStream:
    """Every document of a YAML stream as plain values (SafeLoader semantics) with field positions.

    Never raises for bad input: problems come back in ``YamlStream.problems`` with a
    line and column. After a syntax error the stream resumes at the next ``---``
    line, so one broken document does not hide the others (up to `MAX_SYNTAX_ERRORS`).
    """
    stream = YamlStream()
    if not limits.allow_aliases:
        alias = _first_alias(text)
        if alias is not None:
            stream.problems.append(alias)
            return stream
    index, error_line = _load_from(text, 0, 0, limits, stream)
    if error_line is None:
        return stream
    markers = _document_markers(text)
    start_line = 0
    for _ in range(MAX_SYNTAX_ERRORS - 1):
        at = bisect.bisect_left(markers, (max(error_line, start_line + 1), 0))
        if at == len(markers):
            return stream
        start_line, offset = markers[at]
        index, error_line = _load_from(text[offset:], start_line, index + 1, limits, stream)
        if error_line is None:
            return stream
    return stream


def _first_alias(text: str) -> YamlProblem | None:
    """Where the first ``*alias`` is used (the composed graph only knows its anchor); syntax errors are left to the load."""
    try:
        for event in yaml.parse(text, Loader=_NodeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                if mark is None:  # (the parser marks every event)
                    continue
                return YamlProblem(ALIAS_LIMIT, "aliases are not allowed in this file; write the value out", mark.line + 1, mark.column + 1)
    except yaml.YAMLError:
        return None
    return None


def _load_from(
    text: str, start_line: int, index: int, limits: LoadLimits, stream: YamlStream
) -> tuple[int, int | None]:
    """Load the documents of ``text``, which starts on line ``start_line`` (0-based) of the file.

    Returns the next document index and the 0-based file line of a syntax error, or None.
    """
    loader = _FastResolveLoader(text)
    line_offset = start_line + 1
    try:
        while loader.check_node():
            if index >= limits.max_documents:
                stream.problems.append(
                    YamlProblem(
                        TOO_MANY_DOCUMENTS,
                        f"The file has more than {limits.max_documents:,} documents; split it into smaller files.",
                        _mark_line(loader, line_offset),
                        doc_index=index,
                    )
                )
                return index, None
            node = loader.get_node()
            if node is not None and not _is_empty(node):
                try:
                    stream.documents.append(_build_document(node, index, line_offset, limits))
                except _Abort as abort:
                    stream.problems.append(_abort_problem(abort, node, index, line_offset))
            index += 1
    except yaml.MarkedYAMLError as err:
        problem = _syntax_problem(err, index, line_offset)
        stream.problems.append(problem)
        return index, problem.line - 1
    except yaml.YAMLError as err:
        stream.problems.append(
            YamlProblem(YAML_SYNTAX, f"The YAML cannot be read: {err}.", line_offset, 1, index)
        )
        return index, None
    except RecursionError:  # only the pure-Python composer recurses; libyaml stops at depth 1000
        stream.problems.append(_too_deep(limits, line_offset, 1, index))
        return index, None
    finally:
        loader.dispose()
    return index, None


def _document_markers(text: str) -> list[tuple[int, int]]:
    """(0-based line, offset) of every ``---`` line, in one pass so resuming stays linear."""
    markers = []
    line = last = 0
    for match in _DOCUMENT_MARKER.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        markers.append((line, last))
    return markers


def _mark_line(loader: Any, line_offset: int) -> int:
    try:
        line: int = loader.peek_event().start_mark.line
        return line + line_offset
    except (yaml.YAMLError, AttributeError):
        return line_offset


def _is_empty(node: Node | None) -> bool:
    return node is None or (node.__class__ is ScalarNode and node.tag == _TAG + "null" and node.value == "")


MAX_QUOTED_CHARS = 80  # a message names a key or value; a 100 KB scalar is shown by its start


def quoted(value: str) -> str:
    """``repr(value)``, cut to MAX_QUOTED_CHARS with an ellipsis: findings never carry a huge scalar."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


def _syntax_problem(err: yaml.MarkedYAMLError, index: int, line_offset: int) -> YamlProblem:
    mark = err.problem_mark or err.context_mark
    line = mark.line + line_offset if mark else line_offset
    column = mark.column + 1 if mark else 1
    problem = (err.problem or "invalid YAML").strip()
    if "maximum nesting depth" in problem:
        return YamlProblem(
            TOO_DEEP,
            f"The YAML nests too deeply near line {line} ({problem}); flatten the structure.",
            line,
            column,
            index,
        )
    context = f" {err.context.strip()}" if err.context else ""
    where = ""
    if err.context_mark and err.problem_mark and err.context_mark.line != err.problem_mark.line:
        where = f" (started on line {err.context_mark.line + line_offset})"
    return YamlProblem(
        YAML_SYNTAX,
        f"YAML syntax error{context}{where}: {problem}; fix the indentation, quoting or brackets here.",
        line,
        column,
        index,
    )


def _abort_problem(abort: _Abort, root: Node, index: int, line_offset: int) -> YamlProblem:
    mark = (abort.node or root).start_mark
    return YamlProblem(abort.rule, abort.message, mark.line + line_offset, mark.column + 1, index, abort.path)


def _too_deep(limits: LoadLimits, line: int, column: int, index: int | None) -> YamlProblem:
    return YamlProblem(
        TOO_DEEP,
        f"The document nests more than {limits.max_depth} levels deep; flatten the structure.",
        line,
        column,
        index,
    )


def _build_document(node: Node, index: int, line_offset: int, limits: LoadLimits) -> YamlDocument:
    builder = _Builder(limits, line_offset)
    mark = node.start_mark
    builder.positions[()] = (mark.line + line_offset, mark.column + 1)
    try:
        value = builder.build(node, (), 0)
    except RecursionError:
        raise _Abort(TOO_DEEP, _too_deep(limits, 0, 0, None).message, None) from None
    except _Abort as abort:
        if abort.rule == TOO_DEEP and _refers_to_itself(node):
            raise _Abort(
                ALIAS_LIMIT,
                "An alias refers to the mapping or list that contains it, so the document never ends; "
                "remove the self-reference.",
                abort.node,
            ) from None
        raise
    return YamlDocument(index, value, builder.positions, mark.line + line_offset)


def _refers_to_itself(root: Node) -> bool:
    """True if an alias sits inside the collection it names (``&a [*a]``): the graph has a cycle."""
    on_path: set[int] = set()
    finished: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            finished.add(key)
            continue
        if node.__class__ is ScalarNode or key in finished:
            continue
        if key in on_path:
            return True
        on_path.add(key)
        stack.append((node, True))
        if node.__class__ is SequenceNode:
            stack.extend((child, False) for child in node.value)
        else:
            stack.extend((child, False) for pair in node.value for child in pair)
    return False


class _Builder:
    """Turns one composed node graph into plain values, counting every node it builds.

    The composer shares one node for an anchor and all its aliases, so the graph of a
    "billion laughs" file is tiny; its expansion is what costs. Counting while building
    (and aborting at ``max_nodes``) bounds time and memory whatever the graph.
    """

    def __init__(self, limits: LoadLimits, line_offset: int):
        self.max_nodes = limits.max_nodes
        self.max_depth = limits.max_depth
        self.line_offset = line_offset
        self.nodes = 0
        self.positions: dict[FieldPath, tuple[int, int]] = {}
        self.seen: set[int] | None = None if limits.allow_aliases else set()

    def build(self, node: Node, path: FieldPath, depth: int) -> Any:
        self.nodes += 1
        if self.seen is not None:  # the composer hands an alias the very node of its anchor
            if id(node) in self.seen:
                raise _Abort(ALIAS_LIMIT, "aliases are not allowed in this file; write the value out", node, path)
            self.seen.add(id(node))
        if self.nodes > self.max_nodes:
            raise _Abort(
                ALIAS_LIMIT,
                f"The document has more than {self.max_nodes:,} values, counting each use of an alias "
                f"such as *name; split it into smaller documents or remove the anchors and aliases.",
                node,
            )
        cls = node.__class__
        # `__class__ is` (faster than isinstance on this path) does not narrow ``node``, hence the ignores.
        if cls is ScalarNode:
            return node.value if node.tag == _STR_TAG else _scalar(node)  # type: ignore[arg-type]
        if depth >= self.max_depth:
            raise _Abort(
                TOO_DEEP,
                f"The document nests more than {self.max_depth} levels deep; flatten the structure.",
                node,
            )
        if cls is MappingNode:
            return self._mapping(node, path, depth + 1)  # type: ignore[arg-type]
        return self._sequence(node, path, depth + 1)  # type: ignore[arg-type]

    def _sequence(self, node: SequenceNode, path: FieldPath, depth: int) -> list[Any]:
        positions = self.positions
        offset = self.line_offset
        items = []
        for i, item in enumerate(node.value):
            item_path = (*path, i)
            mark = item.start_mark
            positions[item_path] = (mark.line + offset, mark.column + 1)
            items.append(self.build(item, item_path, depth))
        return items

    def _mapping(
        self, node: MappingNode, path: FieldPath, depth: int, merged: bool = False
    ) -> dict[str, Any]:
        positions = self.positions
        offset = self.line_offset
        nodes_before = self.nodes
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                if merged:
                    continue
                self.nodes = nodes_before  # rare: start again, merged keys first so explicit ones win
                return self._mapping_with_merges(node, path, depth)
            key = _key(key_node)
            mark = key_node.start_mark
            line = mark.line + offset
            if key in first_line:
                raise _Abort(
                    DUPLICATE_KEY,
                    f"The key {quoted(key)} appears twice in the same mapping (first on line {first_line[key]}); "
                    f"keep one: Kubernetes rejects duplicate keys.",
                    key_node,
                    (*path, key),
                )
            first_line[key] = line
            key_path = (*path, key)
            positions[key_path] = (line, mark.column + 1)
            result[key] = self.build(value_node, key_path, depth)
        return result

    def _mapping_with_merges(self, node: MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        """A mapping with ``<<`` merge keys; explicit keys win, then earlier sources, like SafeLoader."""
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            if value_node.__class__ is SequenceNode:
                sources.extend(value_node.value)
            else:
                sources.append(value_node)
        result: dict[str, Any] = {}
        for source in reversed(sources):
            if source.__class__ is not MappingNode:
                raise _Abort(
                    YAML_SYNTAX,
                    "A merge key (<<) must refer to a mapping or a list of mappings; fix the alias it uses.",
                    source,
                )
            # through build() so merged content counts as nodes and as one more level of nesting
            result.update(self.build(source, path, depth))
        result.update(self._mapping(node, path, depth, merged=True))
        return result


def _key(node: Node) -> str:
    """Mapping keys as strings, as Kubernetes (JSON) sees them; non-string scalars keep their source text."""
    if node.__class__ is not ScalarNode:
        raise _Abort(
            YAML_SYNTAX,
            "A mapping key is itself a mapping or list (often an unquoted {{ template }}); "
            "quote it or use a plain key.",
            node,
        )
    key: str = node.value
    return key


def _scalar(node: ScalarNode) -> Any:
    convert = _CONVERTERS.get(node.tag)
    if convert is None:
        return node.value  # str, timestamp (Kubernetes keeps it a string), binary, custom tags
    try:
        return convert(node.value)
    except (ValueError, KeyError, IndexError, ArithmeticError):
        raise _Abort(
            YAML_SYNTAX,
            f"The value {node.value!r} does not match its tag {node.tag.replace(_TAG, '!!')}; "
            f"fix the value or remove the tag.",
            node,
        ) from None


def _to_int(text: str) -> int:
    """YAML 1.1 integers exactly as PyYAML's SafeConstructor reads them."""
    value = text.replace("_", "")
    sign = 1
    if value[:1] == "-":
        sign, value = -1, value[1:]
    elif value[:1] == "+":
        value = value[1:]
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value[0] == "0":
        return sign * int(value, 8)
    if ":" in value:
        total = 0
        for part in value.split(":"):
            total = total * 60 + int(part)
        return sign * total
    return sign * int(value)


def _to_float(text: str) -> float:
    """YAML 1.1 floats exactly as PyYAML's SafeConstructor reads them."""
    value = text.replace("_", "").lower()
    sign = 1.0
    if value[:1] == "-":
        sign, value = -1.0, value[1:]
    elif value[:1] == "+":
        value = value[1:]
    if value == ".inf":
        return sign * float("inf")
    if value == ".nan":
        return float("nan")
    if ":" in value:
        total = 0.0
        for part in value.split(":"):
            total = total * 60 + float(part)
        return sign * total
    return sign * float(value)


_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}

_CONVERTERS: dict[str, Callable[[str], Any]] = {
    _TAG + "int": _to_int,
    _TAG + "float": _to_float,
    _TAG + "bool": lambda text: _BOOLS[text.lower()],
    _TAG + "null": lambda text: None,
}
