"""Rego engine adapter for real OPA (Go, via opa-golib-python-bindings): the reference semantics."""

from __future__ import annotations

import re
from typing import Any

from opa_bindings.engine import OpaEngine, OpaError, OpaUndefinedError

from bot.core.rego.capabilities import refuse_unsafe_builtins
from bot.core.rego.engine import clean_engine_message, compile_error, package_of
from bot.core.rego.v0_upgrade import looks_like_v0, upgrade_v0_module
from bot.errors import PolicyError

_DATA_REF_RE = re.compile(r"^data(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_VALUE_VAR = "__gitops_value__"


class OpaGolibEngine:
    """OPA 1.x only parses Rego v1, so v0 modules are upgraded to v1 text before they are added.

    The bindings can merge data but never replace it, so `set_data` rebuilds the
    native engine from the kept module sources (once per evaluation, not per document).
    """

    name = "opa"

    def __init__(self) -> None:
        self._modules: list[tuple[str, str]] = []
        self._engine = OpaEngine()

    def add_module(self, filename: str, source: str) -> None:
        refuse_unsafe_builtins(filename, source)
        try:
            self._engine.add_policy(filename, source)
        except OpaError as v1_error:
            if not looks_like_v0(v1_error.message):
                raise compile_error(filename, v1_error.message) from None
            source = upgrade_v0_module(filename, source)
            try:
                self._engine.add_policy(filename, source)
            except OpaError as e:
                raise compile_error(filename, f"(after upgrading Rego v0 syntax) {e.message}") from None
        self._modules.append((filename, source))

    def add_data(self, data: dict[str, Any]) -> None:
        try:
            self._engine.add_data(data)
        except OpaError as e:
            raise PolicyError(f"load data: {e.message}") from None

    def set_data(self, data: dict[str, Any]) -> None:
        self._engine.close()
        self._engine = OpaEngine()
        for filename, source in self._modules:
            self._engine.add_policy(filename, source)
        self.add_data(data)

    def compile(self) -> None:
        try:
            self._engine.eval_query("true")
        except OpaError as e:
            raise compile_error("<policies>", e.message) from None

    def evaluate(self, query: str, input: Any | None) -> Any:
        try:
            if _DATA_REF_RE.match(query):
                return self._engine.eval_document(query[len("data.") :], input=input)
            rows = self._engine.eval_query(f"{_VALUE_VAR} := ({query})", input=input)
        except OpaUndefinedError:
            return None
        except OpaError as e:
            if e.code == "prepare_error":
                raise compile_error("<policies>", e.message) from None
            raise PolicyError(f"evaluate {_short(query)}: {clean_engine_message(e.message)}") from None
        return rows[0].get(_VALUE_VAR) if rows else None

    def packages(self) -> list[str]:
        return sorted({package_of(source) for _, source in self._modules} - {""})


def _short(query: str) -> str:
    """Queries can be long (one per rule); error messages keep the start only."""
    flat = " ".join(query.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."
