"""Plain-words wording and rule ids for schema violations; never schema JSON, never a secret value."""

from __future__ import annotations

import difflib
import json
from typing import Any

from bot.core.resource import format_path
from bot.core.schemas.engine import Violation

MAX_ECHO_CHARS = 60

RULE_TYPE = "schema/type"
RULE_ENUM = "schema/enum"
RULE_REQUIRED = "schema/required"
RULE_UNKNOWN_FIELD = "schema/unknown-field"
RULE_FORMAT = "schema/format"
RULE_PATTERN = "schema/pattern"
RULE_RANGE = "schema/range"
RULE_INVALID = "schema/invalid"
RULE_UNKNOWN_KIND = "schema/unknown-kind"
RULE_DEPRECATED_API = "schema/deprecated-api-version"
RULE_REMOVED_API = "schema/removed-api-version"
RULE_INVALID_CRD = "schema/invalid-crd"

SCHEMA_RULES = (
    RULE_TYPE,
    RULE_ENUM,
    RULE_REQUIRED,
    RULE_UNKNOWN_FIELD,
    RULE_FORMAT,
    RULE_PATTERN,
    RULE_RANGE,
    RULE_INVALID,
    RULE_UNKNOWN_KIND,
    RULE_DEPRECATED_API,
    RULE_REMOVED_API,
    RULE_INVALID_CRD,
)

_RANGE_KEYWORDS = {
    "minimum": "{value} is less than the minimum {limit}",
    "maximum": "{value} is greater than the maximum {limit}",
    "exclusiveMinimum": "{value} must be greater than {limit}",
    "exclusiveMaximum": "{value} must be less than {limit}",
    "minLength": "must be at least {limit} characters long",
    "maxLength": "must be at most {limit} characters long",
    "minItems": "must have at least {limit} item(s)",
    "maxItems": "must have at most {limit} item(s)",
    "minProperties": "must have at least {limit} field(s)",
    "maxProperties": "must have at most {limit} field(s)",
}

_TYPE_NOUNS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}

_FORMAT_HINTS = {
    "byte": "is not valid base64",
    "date-time": "is not a valid date-time (RFC 3339, e.g. 2024-01-31T12:00:00Z)",
}


def rule_for(violation: Violation) -> str:
    keyword = violation.keyword
    if keyword == "type":
        return RULE_TYPE
    if keyword == "enum":
        return RULE_ENUM
    if keyword == "required":
        return RULE_REQUIRED
    if keyword in ("additionalProperties", "falseSchema"):
        return RULE_UNKNOWN_FIELD
    if keyword == "format":
        return RULE_FORMAT
    if keyword == "pattern":
        return RULE_PATTERN
    if keyword in _RANGE_KEYWORDS:
        return RULE_RANGE
    return RULE_INVALID


def noun_of(value: Any) -> str:
    """What kind of YAML value this is, in words: "a string", "a mapping", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def echo(value: Any, *, redact: bool = False) -> str:
    """A short rendering of a user value: quoted strings cut at MAX_ECHO_CHARS; "the value" if secret."""
    if redact:
        return "the value"
    if isinstance(value, str):
        text = value if len(value) <= MAX_ECHO_CHARS else value[: MAX_ECHO_CHARS - 1] + "…"
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        text = str(value)
        return text if len(text) <= MAX_ECHO_CHARS else text[: MAX_ECHO_CHARS - 1] + "…"
    return noun_of(value)


def _got(value: Any, redact: bool) -> str:
    if redact:
        return f"the value ({noun_of(value)})"
    if isinstance(value, bool):
        return f"the boolean {echo(value)}"
    if isinstance(value, str):
        return f"the string {echo(value)}"
    if isinstance(value, int):
        return f"the integer {echo(value)}"
    if isinstance(value, float):
        return f"the number {echo(value)}"
    return noun_of(value)


def _expected_types(types: tuple[str, ...]) -> str:
    shown = [t for t in types if t != "null"] or list(types)
    return " or ".join(_TYPE_NOUNS.get(t, t) for t in shown)


def _listing(values: Any) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values if v is not None)


def _at(path: str, text: str) -> str:
    return f"{path}: {text}" if path else text


def did_you_mean(name: str, known: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def describe(violation: Violation, *, redact: bool = False, unknown_field_note: str = "") -> str:
    """The user-facing message, prefixed with the field path.

    ``redact``: the value sits under a Secret's data, so only its kind is named.
    ``unknown_field_note``: why an unknown field matters here ("would be pruned by the API server").
    """
    path = format_path(violation.path)
    keyword, value, expected = violation.keyword, violation.instance, violation.expected
    if keyword == "type":
        return _at(path, f"expected {_expected_types(tuple(expected or ()))}, got {_got(value, redact)}")
    if keyword == "enum":
        return _at(path, f"{echo(value, redact=redact)} is not one of {_listing(expected or ())}")
    if keyword == "required":
        return _at(path, f'missing required field "{expected}"')
    if keyword in ("additionalProperties", "falseSchema"):
        note = f", {unknown_field_note}" if unknown_field_note else ""
        name = str(violation.path[-1]) if violation.path else ""
        return _at(path, f"unknown field{note}{did_you_mean(name, violation.allowed)}")
    if keyword == "format":
        hint = _FORMAT_HINTS.get(str(expected), f"is not a valid {expected}")
        return _at(path, f"{echo(value, redact=redact)} {hint}")
    if keyword == "pattern":
        return _at(path, f"{echo(value, redact=redact)} does not match the pattern {json.dumps(expected)}")
    if keyword in _RANGE_KEYWORDS:
        return _at(path, _RANGE_KEYWORDS[keyword].format(value=echo(value, redact=redact), limit=expected))
    if keyword == "const":
        return _at(path, f"must be {json.dumps(expected)}")
    if keyword in ("oneOf", "anyOf"):
        return _at(path, f"{echo(value, redact=redact)} does not match any of the allowed forms")
    return _at(path, f"{echo(value, redact=redact)} is not valid (JSON schema keyword {keyword!r})")
