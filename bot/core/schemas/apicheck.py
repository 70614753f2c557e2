"""Shared plumbing of the API-server checks: rule ids, typed field access, and findings at the field's line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bot.core.findings import Finding, Severity, Source
from bot.core.resource import FieldPath, Resource, finding_at, format_path
from bot.core.schemas import k8svalidation as kv
from bot.core.schemas.messages import RULE_ENUM, RULE_RANGE, RULE_REQUIRED

RULE_QUANTITY = "schema/quantity"
RULE_INT_OR_STRING = "schema/int-or-string"
RULE_DNS_NAME = "schema/dns-name"
RULE_PORT_NAME = "schema/port-name"
RULE_LABEL = "schema/label"
RULE_SELECTOR_MISMATCH = "schema/selector-mismatch"
RULE_DUPLICATE_NAME = "schema/duplicate-name"
RULE_UNDEFINED_VOLUME = "schema/undefined-volume"
RULE_CONFIG_KEY = "schema/config-key"
RULE_ONE_OF = "schema/one-of"
RULE_FORBIDDEN = "schema/forbidden"
RULE_API_VERSION = "schema/api-version"

API_SERVER_RULES = (
    RULE_QUANTITY,
    RULE_INT_OR_STRING,
    RULE_DNS_NAME,
    RULE_PORT_NAME,
    RULE_LABEL,
    RULE_SELECTOR_MISMATCH,
    RULE_DUPLICATE_NAME,
    RULE_UNDEFINED_VOLUME,
    RULE_CONFIG_KEY,
    RULE_ONE_OF,
    RULE_FORBIDDEN,
    RULE_API_VERSION,
)

_REMEDIATION = (
    "The API server rejects this object at apply time ({check}); fix the field named in the message."
)


class Checker:
    """Collects API-server findings for one resource; ``partial`` (a kustomize patch) skips whole-object rules."""

    def __init__(self, resource: Resource):
        self.resource = resource
        self.partial = resource.is_patch
        self.findings: list[Finding] = []

    def add(self, rule: str, path: FieldPath, text: str, check: str) -> None:
        """One finding at ``path``; ``check`` names the upstream validation followed (for the remediation)."""
        where = format_path(path)
        finding = finding_at(
            self.resource,
            path,
            rule=rule,
            severity=Severity.ERROR,
            message=f"{where}: {text}" if where else text,
            source=Source.SCHEMA,
        )
        self.findings.append(finding.with_(remediation=_REMEDIATION.format(check=check)))

    def each_error(self, rule: str, path: FieldPath, value: Any, errors: list[str], check: str) -> None:
        """Upstream's ``field.Invalid(path, value, msg)`` for each message."""
        for error in errors:
            self.add(rule, path, f"invalid value {_echo(value)}: {error}", check)

    # -- typed views: anything of the wrong type is the schema's to report, so it is skipped here --------

    def nonnegative(
        self, node: Any, key: str, path: FieldPath, check: str = "ValidateNonnegativeField"
    ) -> None:
        value = node.get(key) if isinstance(node, dict) else None
        if kv.is_int(value) and value < 0:
            self.add(RULE_RANGE, (*path, key), f"must be greater than or equal to 0, got {value}", check)

    def port_number(self, node: Any, key: str, path: FieldPath, *, zero_ok: bool = False) -> None:
        value = node.get(key) if isinstance(node, dict) else None
        if kv.is_int(value) and not (zero_ok and value == 0):
            self.each_error(RULE_RANGE, (*path, key), value, kv.is_valid_port_num(value), "IsValidPortNum")

    def port_num_or_name(self, node: Any, key: str, path: FieldPath) -> None:
        """validatePortNumOrName: an IntOrString port (probe, targetPort): a number 1..65535 or an IANA name."""
        value = node.get(key) if isinstance(node, dict) else None
        if kv.is_int(value):
            self.each_error(RULE_RANGE, (*path, key), value, kv.is_valid_port_num(value), "IsValidPortNum")
        elif isinstance(value, str):
            self.each_error(
                RULE_INT_OR_STRING, (*path, key), value, kv.is_valid_port_name(value), "IsValidPortName"
            )

    def positive_int_or_percent(self, node: Any, key: str, path: FieldPath) -> None:
        """ValidatePositiveIntOrPercent (pkg/apis/apps/validation): a non-negative integer or ``N%``."""
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str):
            self.each_error(
                RULE_INT_OR_STRING, (*path, key), value, kv.is_valid_percent(value), "IsValidPercent"
            )
        elif kv.is_int(value) and value < 0:
            self.add(
                RULE_RANGE,
                (*path, key),
                f"must be greater than or equal to 0, got {value}",
                "ValidateNonnegativeField",
            )

    def not_more_than_100_percent(self, node: Any, key: str, path: FieldPath) -> None:
        """IsNotMoreThan100Percent."""
        value = node.get(key) if isinstance(node, dict) else None
        percent = kv.percent_value(value)
        if percent is not None and percent > 100:
            self.add(
                RULE_RANGE,
                (*path, key),
                f"invalid value {_echo(value)}: must not be greater than 100%",
                "IsNotMoreThan100Percent",
            )

    def required(self, node: Any, key: str, path: FieldPath, check: str, detail: str = "") -> bool:
        """Whole objects only: ``key`` must be present and non-empty. Returns whether it is."""
        if self.partial or not isinstance(node, dict):
            return True
        value = node.get(key)
        if value is None or value == "" or value == [] or value == {}:
            self.add(RULE_REQUIRED, path, f'missing required field "{key}"{detail}', check)
            return False
        return True

    def supported(
        self, node: Any, key: str, path: FieldPath, allowed: tuple[str, ...], check: str, default: str = ""
    ) -> None:
        """field.NotSupported: a string field limited to ``allowed`` (``default``: what the server fills in)."""
        if not isinstance(node, dict):
            return
        value = node.get(key, default if not self.partial else None)
        if isinstance(value, str) and value not in allowed:
            shown = ", ".join(f'"{a}"' for a in allowed)
            what = f'"{value}"' + (" (the default when it is not set)" if key not in node else "")
            self.add(RULE_ENUM, (*path, key), f"unsupported value {what}: supported values: {shown}", check)


def mapping(node: Any, key: str) -> dict[str, Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def items(node: Any, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index, item)`` for the mapping items of the list at ``node[key]``."""
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def string(node: Any, key: str) -> str | None:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, str) else None


def _echo(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 80 else text[:79] + "…"


NameCheck = Callable[[str], list[str]]
