"""Rego engine adapter for regorus (Rust interpreter): the default, fastest in-process engine."""

from __future__ import annotations

import json
from typing import Any

import regorus

from bot.core.rego.capabilities import refuse_unsafe_builtins
from bot.core.rego.engine import clean_engine_message, compile_error, error_line, package_of
from bot.core.rego.parity import split_chained_bodies
from bot.errors import PolicyError


class RegorusEngine:
    """regorus parses per module, so Rego v1 and v0 modules can live side by side in one engine."""

    name = "regorus"

    def __init__(self) -> None:
        self._engine = regorus.Engine()
        self._packages: set[str] = set()
        self._input_set = False

    def add_module(self, filename: str, source: str) -> None:
        refuse_unsafe_builtins(filename, source)
        try:
            self._engine.add_policy(filename, source)
        except RuntimeError as v1_error:
            self._add_v0_module(filename, source, str(v1_error))
        self._packages.add(package_of(source))

    def _add_v0_module(self, filename: str, source: str, v1_message: str) -> None:
        """Old conftest policies (``deny[msg] { ... }``) only parse with the v0 grammar."""
        self._engine.set_rego_v0(True)
        try:  # chained bodies (`p { a } { b }`) as one rule per body: regorus rejects or misreads them
            self._engine.add_policy(filename, split_chained_bodies(source))
        except RuntimeError as v0_error:
            # Report whichever grammar got further into the file: that is the real mistake.
            v0_message = str(v0_error)
            best = v0_message if error_line(v0_message) > error_line(v1_message) else v1_message
            raise compile_error(filename, best) from None
        finally:
            self._engine.set_rego_v0(False)

    def add_data(self, data: dict[str, Any]) -> None:
        try:
            self._engine.add_data_json(json.dumps(data))
        except RuntimeError as e:
            raise PolicyError(f"load data: {clean_engine_message(str(e))}") from None

    def set_data(self, data: dict[str, Any]) -> None:
        self._engine.clear_data()
        self.add_data(data)

    def compile(self) -> None:
        # regorus analyses every module on the first query; a trivial one forces it now.
        try:
            self._engine.eval_query_as_json("true")
        except RuntimeError as e:
            raise compile_error("<policies>", str(e)) from None

    def evaluate(self, query: str, input: Any | None) -> Any:
        if input is not None or self._input_set:
            # regorus cannot unset input; JSON null is the closest to "no input" once one was set.
            self._engine.set_input_json(json.dumps(input))
            self._input_set = True
        try:
            answer = json.loads(self._engine.eval_query_as_json(query))
        except RuntimeError as e:
            raise PolicyError(f"evaluate {_short(query)}: {clean_engine_message(str(e))}") from None
        results = answer.get("result") or []
        if not results or not results[0].get("expressions"):
            return None
        return results[0]["expressions"][0].get("value")

    def packages(self) -> list[str]:
        return sorted(p for p in self._packages if p)


def _short(query: str) -> str:
    """Queries can be long (one per rule); error messages keep the start only."""
    flat = " ".join(query.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."
