"""The one gateway to YAML: every reader gets the loader's limits (size, nodes, aliases, depth), every writer one dumper.

Only this module and `bot.core.yamlpos` import ``yaml`` (an import-linter contract says so):
policy data files, gator suites, METADATA blocks, the config and plan output all pass here.
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.core.yamlpos import (
    DEFAULT_LIMITS,
    LoadLimits,
    YamlDocument,
    YamlProblem,
    load_yaml,
    load_yaml_bytes,
    too_large,
)


class YamlError(ValueError):
    """The first problem of a stream; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, problem: YamlProblem):
        super().__init__(problem.message)
        self.rule = problem.rule
        self.line = problem.line


def load_documents(data: bytes | str, limits: LoadLimits = DEFAULT_LIMITS) -> list[YamlDocument]:
    """Every non-empty document with positions; raises YamlError for the first problem (nothing half-read)."""
    if isinstance(data, str) and len(data) > limits.max_bytes:  # text skips decode_text's size check
        raise YamlError(too_large(len(data.encode("utf-8", "replace")), limits))
    stream = load_yaml_bytes(data, limits) if isinstance(data, bytes) else load_yaml(data, limits)
    if stream.problems:
        raise YamlError(min(stream.problems, key=lambda p: (p.line, p.column)))
    return stream.documents


def load_values(data: bytes | str, limits: LoadLimits = DEFAULT_LIMITS) -> list[Any]:
    """The plain values of every non-empty document (``yaml.safe_load_all`` within limits)."""
    return [doc.value for doc in load_documents(data, limits)]


def load_value(data: bytes | str, limits: LoadLimits = DEFAULT_LIMITS) -> Any:
    """The single document's value (None when empty); several documents are a YamlError."""
    docs = load_documents(data, limits)
    if len(docs) > 1:
        raise YamlError(YamlProblem("parse/too-many-documents", "expected one YAML document, found several", docs[1].line))
    return docs[0].value if docs else None


def dump_yaml(value: Any) -> str:
    """Block-style YAML, keys in the given order, multi-line strings as ``|`` blocks (diffs read line by line)."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
