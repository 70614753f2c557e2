"""Compile JSON schemas with jsonschema-rs (fast) or jsonschema (fallback) and report plain violations.

Both engines are reduced to `Violation` (instance path, keyword, expected value), so the
messages are ours whichever engine ran. ``$ref`` resolution only ever sees the documents passed
in: any other reference fails instead of reaching for the network.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from bot.core.resource import FieldPath
from bot.errors import ConfigError

try:  # the compiled engine is optional: the pure-Python one gives the same violations, slower
    import jsonschema_rs
except ImportError:  # pragma: no cover - depends on the platform's wheels
    jsonschema_rs = None  # type: ignore[assignment]  # absent engine: every use checks for None

JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"

ENGINES = ("jsonschema-rs", "jsonschema")

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_date_time(text: str) -> bool:
    return bool(_DATE_TIME.match(text))


# The Kubernetes string formats worth checking; the rest (int-or-string, quantity, ...) are ignored.
STRING_FORMATS = {"byte": _is_base64, "date-time": _is_date_time}


@dataclass(frozen=True)
class Violation:
    """One way an instance breaks its schema, before any wording."""

    path: FieldPath  # to the offending value (for ``required``: the object missing the field)
    keyword: str  # the JSON-schema keyword that failed: type, enum, required, additionalProperties, ...
    instance: Any
    expected: Any = None  # types tuple, enum values, missing field, limit, pattern or format
    allowed: tuple[str, ...] = ()  # additionalProperties: the properties the schema does know


class CompiledSchema(Protocol):
    def violations(self, instance: Any) -> list[Violation]:
        """Every violation in ``instance``, in document order as far as the engine allows."""
        ...


def default_engine() -> str:
    """The faster engine when installed (see bench/bench_schema_engines.py), else the pure-Python one."""
    return "jsonschema-rs" if jsonschema_rs is not None else "jsonschema"


class SchemaDocuments:
    """The documents ``$ref`` may reach (URI -> contents), with each engine's registry built once.

    Building a registry over the multi-megabyte ``_definitions.json`` costs more than compiling
    one kind's schema, so every kind of one Kubernetes version shares one of these.
    """

    def __init__(self, documents: Mapping[str, Any] | None = None) -> None:
        self.documents: dict[str, Any] = dict(documents or {})
        self._rust_registry: Any = None
        self._python_registry: Any = None

    def rust_registry(self) -> Any:
        if self._rust_registry is None:
            self._rust_registry = jsonschema_rs.Registry(
                list(self.documents.items()), retriever=_refuse_retrieval
            )
        return self._rust_registry

    def python_registry(self) -> Any:
        if self._python_registry is None:
            import referencing
            import referencing.jsonschema

            def retrieve(uri: str) -> referencing.Resource:
                return _refuse_retrieval(uri)

            specification = referencing.jsonschema.DRAFT202012
            self._python_registry = referencing.Registry(retrieve=retrieve).with_resources(  # type: ignore[call-arg]  # attrs alias of Registry._retrieve, unseen by mypy
                (uri, specification.create_resource(contents)) for uri, contents in self.documents.items()
            )
        return self._python_registry


NO_DOCUMENTS = SchemaDocuments()


def compile_schema(schema: dict[str, Any], documents: SchemaDocuments, engine: str) -> CompiledSchema:
    """Compile ``schema`` with its ``$ref`` targets limited to ``documents``.

    Raises ValueError (whatever the engine) when the schema itself is not valid JSON schema.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown schema engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if engine == "jsonschema-rs" and jsonschema_rs is not None:
        return _RustSchema(schema, documents)
    return _PythonSchema(schema, documents)


def _refuse_retrieval(uri: str) -> NoReturn:
    raise LookupError(f"schema reference {uri} is not bundled; remote schemas are never fetched")


def _resolve_pointer(document: Any, pointer: list[Any]) -> Any:
    node = document
    for part in pointer:
        if isinstance(node, dict):
            node = node.get(str(part).replace("~1", "/").replace("~0", "~"))
        elif isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _known_properties(schema: Any) -> tuple[str, ...]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return tuple(props) if isinstance(props, dict) else ()


def _merged_types(
    branches: list[list[Any]],
    branch_path: list[Any],
    path_of: Callable[[Any], list[Any]],
    keyword_of: Callable[[Any], str],
    types_of: Callable[[Any], Any],
) -> tuple[str, ...] | None:
    """For oneOf/anyOf: the union of types when every branch failed only on its type, else None."""
    types: list[str] = []
    for branch in branches:
        if not branch:
            return None
        for error in branch:
            if keyword_of(error) != "type" or path_of(error) != branch_path:
                return None
            types.extend(t for t in types_of(error) if t not in types)
    return tuple(types) if types else None


class _RustSchema:
    def __init__(self, schema: dict[str, Any], documents: SchemaDocuments) -> None:
        self._root = schema
        self._documents = documents.documents
        try:
            self._validator = jsonschema_rs.validator_for(
                schema,
                registry=documents.rust_registry(),
                retriever=_refuse_retrieval,
                validate_formats=True,
                ignore_unknown_formats=True,
                formats=STRING_FORMATS,
            )
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as err:
            where = "/".join(map(str, getattr(err, "instance_path", ()) or ())) or "the root"
            raise ValueError(f"{str(err).splitlines()[0]} (at {where})") from err

    def violations(self, instance: Any) -> list[Violation]:
        out: list[Violation] = []
        for error in self._validator.iter_errors(instance):
            out.extend(self._convert(error))
        return out

    def _schema_at(self, error: Any) -> Any:
        location = getattr(error, "absolute_keyword_location", None)  # jsonschema-rs >= 0.30
        if location and "#" in location:
            uri, _, fragment = location.partition("#")
            document = self._documents.get(uri, self._root)
            pointer = [p for p in fragment.split("/") if p][:-1]
            return _resolve_pointer(document, pointer)
        return _resolve_pointer(self._root, list(error.schema_path)[:-1])

    def _convert(self, error: Any) -> list[Violation]:
        path = tuple(error.instance_path)
        keyword = error.kind.name
        detail = error.kind.as_dict()
        instance = error.instance
        if keyword == "type":
            return [Violation(path, "type", instance, tuple(detail.get("types", ())))]
        if keyword == "enum":
            return [Violation(path, "enum", instance, tuple(detail.get("options", ())))]
        if keyword == "required":
            return [Violation(path, "required", instance, detail.get("property"))]
        if keyword == "additionalProperties":
            allowed = _known_properties(self._schema_at(error))
            return [
                Violation((*path, name), "additionalProperties", (instance or {}).get(name), name, allowed)
                for name in detail.get("unexpected", ())
            ]
        if keyword in ("oneOf", "anyOf") and type(error.kind).__name__ != "OneOfMultipleValid":
            types = _merged_types(
                detail.get("context") or [],
                list(error.instance_path),
                lambda e: list(e.instance_path),
                lambda e: e.kind.name,
                lambda e: e.kind.as_dict().get("types", ()),
            )
            if types:
                return [Violation(path, "type", instance, types)]
            return [Violation(path, keyword, instance)]
        if keyword == "format":
            return [Violation(path, "format", instance, detail.get("format"))]
        if keyword == "pattern":
            return [Violation(path, "pattern", instance, detail.get("pattern"))]
        if "limit" in detail:
            return [Violation(path, keyword, instance, detail["limit"])]
        if keyword == "const":
            return [Violation(path, "const", instance, detail.get("expected_value"))]
        return [Violation(path, keyword, instance)]


class _PythonSchema:
    def __init__(self, schema: dict[str, Any], documents: SchemaDocuments) -> None:
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise ValueError(
                f"{err.message} (at {'/'.join(map(str, err.absolute_path)) or 'the root'})"
            ) from err
        checker = jsonschema.FormatChecker(formats=())
        for name, check in STRING_FORMATS.items():
            checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
        self._validator = jsonschema.Draft202012Validator(
            schema, registry=documents.python_registry(), format_checker=checker
        )

    def violations(self, instance: Any) -> list[Violation]:
        import referencing.exceptions

        out: list[Violation] = []
        seen: set[tuple[Any, ...]] = set()
        try:
            for error in self._validator.iter_errors(instance):
                for violation in self._convert(error):
                    key = (violation.path, violation.keyword, repr(violation.expected))
                    if key not in seen:
                        seen.add(key)
                        out.append(violation)
        except referencing.exceptions.Unresolvable as err:  # refs resolve lazily in this engine
            raise ValueError(f"unresolvable schema reference {err}") from err
        return out

    def _convert(self, error: Any) -> list[Violation]:
        path = tuple(error.absolute_path)
        keyword = error.validator
        value = error.validator_value
        instance = error.instance
        if keyword == "type":
            return [Violation(path, "type", instance, tuple([value] if isinstance(value, str) else value))]
        if keyword == "enum":
            return [Violation(path, "enum", instance, tuple(value))]
        if keyword == "required":
            present = instance if isinstance(instance, dict) else {}
            return [Violation(path, "required", instance, name) for name in value if name not in present]
        if keyword == "additionalProperties" and value is False and isinstance(instance, dict):
            known = _known_properties(error.schema)
            patterns = list((error.schema.get("patternProperties") or {}).keys())
            return [
                Violation((*path, name), "additionalProperties", instance[name], name, known)
                for name in instance
                if name not in known and not any(re.search(p, name) for p in patterns)
            ]
        if keyword in ("oneOf", "anyOf"):
            branches: dict[int, list[Any]] = {}
            for sub in error.context or []:
                branches.setdefault(sub.schema_path[0], []).append(sub)
            if len(branches) == len(value):
                types = _merged_types(
                    list(branches.values()),
                    list(error.absolute_path),
                    lambda e: list(e.absolute_path),
                    lambda e: e.validator,
                    lambda e: (
                        [e.validator_value] if isinstance(e.validator_value, str) else e.validator_value
                    ),
                )
                if types:
                    return [Violation(path, "type", instance, types)]
            return [Violation(path, keyword, instance)]
        if keyword in ("format", "pattern", "const") or keyword.startswith(("min", "max", "exclusive")):
            return [Violation(path, keyword, instance, value)]
        return [Violation(path, keyword, instance)]
