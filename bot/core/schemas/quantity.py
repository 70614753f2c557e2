"""resource.Quantity as the API server parses it (k8s.io/apimachinery/pkg/api/resource/quantity.go, suffix.go).

The OpenAPI schema only says "string or number"; the server's decoder rejects the whole
object when a quantity does not parse, so ``500mi``, ``512MB`` and ``1.5 cores`` never
reach the cluster. `parse_quantity` follows ``parseQuantityString`` and the suffixer
step by step (including its leniencies: ``"1."`` and ``"+"`` are accepted).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# quantity.go: the regular expression its errors quote.
SPLIT_RE_STRING = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE_STRING}'"
ERR_SUFFIX = "unable to parse quantity's suffix"
ERR_NUMERIC = "unable to parse numeric part of quantity"

_SUFFIX_CHARS = "eEinumkKMGTP"
_DIGITS = "0123456789"
# suffix.go: decimalSI and binarySI suffixes, as (base, exponent).
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_INT64 = (-(2**63), 2**63 - 1)  # strconv.ParseInt(..., 10, 64)


class QuantityError(ValueError):
    """The text is not a resource.Quantity; the message is upstream's."""


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """parseQuantityString: (positive, value, numerator, denominator, suffix) or QuantityError."""
    positive, pos, end = True, 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":  # leading zeros
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    if pos >= end:
        return positive, text, num, "", ""
    denom = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos >= end:
            return positive, text, num, denom, ""
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos >= end:
        return positive, value, num, denom, text[suffix_start:]
    if text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:  # a character that belongs to no part of a quantity
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int]:
    """suffixer.interpret: (base, exponent) or QuantityError."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix]
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[:1] in ("+", "-") else digits
        if body and all(c in _DIGITS for c in body):
            exponent = int(digits)
            if _INT64[0] <= exponent <= _INT64[1]:
                return 10, exponent
    raise QuantityError(ERR_SUFFIX)


def parse_quantity(text: str) -> Decimal:
    """The value of a quantity string (ParseQuantity), or QuantityError with upstream's message."""
    if not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return Decimal(0)
    positive, _, num, denom, suffix = _scan(text)
    base, exponent = _interpret(suffix)
    try:
        magnitude = Decimal(f"{num}.{denom or '0'}")
    except InvalidOperation:
        raise QuantityError(ERR_NUMERIC) from None
    try:
        scaled = magnitude.scaleb(exponent) if base == 10 else magnitude * (Decimal(2) ** exponent)
    except ArithmeticError:  # beyond what Decimal holds: upstream still parses it (and caps it)
        scaled = Decimal("Infinity") if exponent > 0 else Decimal(0)
    return scaled if positive else -scaled


def quantity_value(value: Any) -> Decimal:
    """A YAML value in a Quantity field: strings parse as above, numbers as their JSON text does.

    Raises QuantityError for what the API server's decoder refuses.
    """
    if isinstance(value, bool) or value is None:
        raise QuantityError(ERR_FORMAT_WRONG)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QuantityError(ERR_FORMAT_WRONG)
        return Decimal(repr(value))
    if isinstance(value, str):
        return parse_quantity(value)
    raise QuantityError(ERR_FORMAT_WRONG)
