"""Read Rego METADATA comment blocks (YAML inside ``# METADATA`` comments) from module text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.core.findings import Severity
from bot.core.jsonfields import mapping_at
from bot.core.rego.engine import package_of
from bot.core.yaml_gateway import YamlError, load_value
from bot.core.yamlpos import LoadLimits
from bot.errors import PolicyError

_MARKER = "METADATA"
# A METADATA block is a few lines of annotations; anything bigger is not one.
METADATA_LIMITS = LoadLimits(max_bytes=64 * 1024, max_documents=1, max_depth=20, max_nodes=5_000)


@dataclass(frozen=True)
class RuleMetadata:
    """What the docs, the config validator and every finding say about one policy package."""

    id: str
    title: str
    severity: Severity | None
    description: str
    remediation: str
    package: str
    # Kinds the rule can fire on (``custom.kinds``); empty means every kind. Only a speed-up:
    # documents of other kinds skip the rule, so a wrong list would hide findings (tests compare).
    kinds: tuple[str, ...] = ()
    # The Pod Security Standards level the rule enforces (``custom.pss``): baseline, restricted, or none (a bot opinion).
    pss: str = ""


def parse_package_metadata(source: str) -> RuleMetadata | None:
    """The package-scoped METADATA block (else the first one) of a module; None when it has none.

    Raises PolicyError when the block is not YAML or names an unknown severity:
    a typo there would silently change how findings block a merge.
    """
    package = package_of(source)
    blocks = list(_metadata_blocks(source))
    if not blocks:
        return None
    chosen = next((b for b, before_package in blocks if before_package or b.get("scope") == "package"), None)
    block = chosen if chosen is not None else blocks[0][0]
    custom = mapping_at(block, "custom")
    return RuleMetadata(
        id=_text(custom.get("id")),
        title=_text(block.get("title")),
        severity=_severity(custom.get("severity"), package),
        description=_text(block.get("description")),
        remediation=_text(custom.get("remediation")),
        package=package,
        kinds=_kinds(custom.get("kinds"), package),
        pss=_text(custom.get("pss")),
    )


def _kinds(value: Any, package: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
        raise PolicyError(f"METADATA of package {package}: custom.kinds must be a list of kind names")
    return tuple(value)


def _metadata_blocks(source: str) -> Iterator[tuple[dict[str, Any], bool]]:
    """Yield (parsed block, whether the package statement follows it directly); lines are 1-based."""
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != f"# {_MARKER}" and lines[i].strip() != f"#{_MARKER}":
            i += 1
            continue
        start = i + 1
        i = start
        while i < len(lines) and lines[i].lstrip().startswith("#"):
            i += 1
        body = textwrap.dedent("\n".join(line.lstrip()[1:] for line in lines[start:i]))
        following = lines[i].strip() if i < len(lines) else ""
        yield _parse_yaml(body, start), following.startswith("package ")


def _parse_yaml(body: str, line: int) -> dict[str, Any]:
    try:
        parsed = load_value(body, METADATA_LIMITS) or {}
    except YamlError as e:
        raise PolicyError(f"METADATA block at line {line}: not valid YAML: {e}") from None
    if not isinstance(parsed, dict):
        raise PolicyError(f"METADATA block at line {line}: expected a mapping of annotations")
    return parsed


def _severity(value: Any, package: str) -> Severity | None:
    if value is None or value == "":
        return None
    try:
        return Severity.parse(str(value))
    except ValueError as e:
        raise PolicyError(f"METADATA of package {package}: {e}") from None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
