"""The apimachinery checks one by one: resource.Quantity grammar, names, label syntax, ports, percents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.schemas import k8svalidation as kv
from bot.core.schemas.quantity import (
    ERR_FORMAT_WRONG,
    ERR_SUFFIX,
    QuantityError,
    parse_quantity,
    quantity_value,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500Mi", Decimal(500 * 2**20)),
        ("0.5", Decimal("0.5")),
        ("1e3", Decimal(1000)),
        ("100m", Decimal("0.1")),
        ("1E", Decimal(10**18)),  # exa, not an exponent
        ("12e-3", Decimal("0.012")),
        (".5", Decimal("0.5")),
        ("1.", Decimal(1)),  # upstream: "we currently allow 1.G"
        ("+", Decimal(0)),  # leading sign with nothing after it parses as zero upstream
        ("-1", Decimal(-1)),
        ("1.5Gi", Decimal("1.5") * 2**30),
        ("0", Decimal(0)),
        ("5n", Decimal("5e-9")),
    ],
)
def test_valid_quantities(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("500mi", ERR_SUFFIX),
        ("1Mb", ERR_FORMAT_WRONG),
        ("512MB", ERR_FORMAT_WRONG),
        ("1.5 cores", ERR_FORMAT_WRONG),
        ("1e", ERR_SUFFIX),
        ("1ki", ERR_SUFFIX),
        ("", ERR_FORMAT_WRONG),
        (" 5", ERR_FORMAT_WRONG),
        ("5 ", ERR_FORMAT_WRONG),
        ("abc", ERR_FORMAT_WRONG),
        ("1e1.5", ERR_FORMAT_WRONG),
    ],
)
def test_invalid_quantities_carry_upstreams_message(text: str, error: str) -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity(text)
    assert str(caught.value) == error


def test_numbers_are_quantities_and_booleans_are_not() -> None:
    assert quantity_value(2) == 2
    assert quantity_value(0.25) == Decimal("0.25")
    with pytest.raises(QuantityError):
        quantity_value(True)


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        (kv.is_dns1123_label, "my-name", True),
        (kv.is_dns1123_label, "My-name", False),
        (kv.is_dns1123_label, "a" * 64, False),
        (kv.is_dns1123_subdomain, "example.com", True),
        (kv.is_dns1123_subdomain, "example_com", False),
        (kv.is_dns1123_subdomain, "-example", False),
        (kv.is_dns1035_label, "web", True),
        (kv.is_dns1035_label, "1web", False),
        (kv.is_qualified_name, "app.kubernetes.io/name", True),
        (kv.is_qualified_name, "MyName", True),
        (kv.is_qualified_name, "/name", False),
        (kv.is_qualified_name, "a/b/c", False),
        (kv.is_qualified_name, "Example.com/name", False),  # prefix must be a lowercase subdomain
        (kv.is_valid_label_value, "", True),
        (kv.is_valid_label_value, "v1.2_3", True),
        (kv.is_valid_label_value, "a b", False),
        (kv.is_valid_label_value, "x" * 64, False),
        (kv.is_valid_port_name, "http", True),
        (kv.is_valid_port_name, "8080", False),
        (kv.is_valid_port_name, "http--alt", False),
        (kv.is_valid_port_name, "-http", False),
        (kv.is_valid_port_name, "a-very-long-port-name", False),
        (kv.is_valid_percent, "25%", True),
        (kv.is_valid_percent, "25", False),
        (kv.is_valid_percent, "2.5%", False),
        (kv.is_config_map_key, "app.yaml", True),
        (kv.is_config_map_key, "..data", False),
        (kv.is_config_map_key, "a b", False),
        (kv.is_path_segment_name, "system:Reader", True),
        (kv.is_path_segment_name, "a/b", False),
    ],
)
def test_apimachinery_checks(check, value: str, valid: bool) -> None:  # noqa: ANN001
    assert (check(value) == []) is valid


def test_port_numbers() -> None:
    assert kv.is_valid_port_num(1) == kv.is_valid_port_num(65535) == []
    assert (
        kv.is_valid_port_num(0) == kv.is_valid_port_num(65536) == ["must be between 1 and 65535, inclusive"]
    )


def test_int_or_percent_values_follow_intstr() -> None:
    assert kv.int_or_percent_value("25%") == 25
    assert kv.int_or_percent_value(3) == 3
    assert kv.int_or_percent_value("7") == 7  # IntValue parses numeric strings
    assert kv.int_or_percent_value("half") == 0
