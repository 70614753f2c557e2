"""One compiled ConstraintTemplate: its Rego and libs in an engine of their own, queried per review.

Each template gets its own engine, as Gatekeeper gives each its own namespace:
two templates may use the same package name or lib names without clashing.
Compiled templates are cached per thread by engine and source (regorus engines
must stay on the thread that built them).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bot.core.gatekeeper.compat import (
    COMPAT_FILENAME,
    COMPAT_MODULE,
    pad_sprintf_arguments,
    rewrite_deprecated_calls,
    separate_parenthesized_statements,
)
from bot.core.gatekeeper.objects import InvalidObject, Template, TemplateCode
from bot.core.rego.engine import RegoEngine, make_engine
from bot.core.rego.parity import route_engine
from bot.errors import PolicyError

_VIOLATION_RE = re.compile(r"^\s*violation\b", re.MULTILINE)
_MODULE_LINE_RE = re.compile(r"template\.rego:(\d+)")
_CACHE_SIZE = 64
_local = threading.local()


@dataclass
class CompiledTemplate:
    """A template ready to answer ``violation`` for any number of reviews.

    Not safe for concurrent use: ``set_inventory`` swaps the engine's data.
    """

    kind: str  # the constraint kind the template defines
    engine: RegoEngine
    query: str

    def set_inventory(self, inventory: dict[str, Any]) -> None:
        """``data.inventory`` for the next reviews (Gatekeeper's replicated cluster state)."""
        self.engine.set_data({"inventory": inventory})

    def violations(self, review: dict[str, Any], parameters: Any) -> list[dict[str, Any]]:
        """The ``violation`` results Gatekeeper reports for one review; raises PolicyError when evaluation fails."""
        return self.results(review, parameters)[0]

    def results(self, review: dict[str, Any], parameters: Any) -> tuple[list[dict[str, Any]], list[Any]]:
        """(reported, ignored) ``violation`` members: Gatekeeper's hook builds each response from ``r.msg``,
        so a member that is not an object with a ``msg`` (``violation[msg]`` with a string) is dropped."""
        value = self.engine.evaluate(self.query, {"review": review, "parameters": parameters})
        members = value if isinstance(value, list) else ([] if value in (None, False) else [value])
        reported = [m for m in members if isinstance(m, dict) and "msg" in m]
        return reported, [m for m in members if not (isinstance(m, dict) and "msg" in m)]


def compile_template(template: Template, engine: str) -> CompiledTemplate:
    """Compile ``template`` (cached per thread); raises InvalidObject pointing at the Rego that fails."""
    code = template.code
    if code is None:
        raise InvalidObject("the template has no Rego code (only Rego templates can be evaluated)", ("spec", "targets", 0))
    key = (engine, template.kind, code)
    cache = _thread_cache()
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    compiled = _compile(template, code, engine)
    cache[key] = compiled
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return compiled


def _compile(template: Template, code: TemplateCode, engine_name: str) -> CompiledTemplate:
    if not _VIOLATION_RE.search(code.rego):
        raise InvalidObject("the Rego source must define a violation rule", code.path)
    try:  # OPA where regorus would judge differently (bot.core.rego.parity)
        engine_name = route_engine([*(("lib.rego", lib) for lib in code.libs), ("template.rego", code.rego)], engine_name)
    except PolicyError as e:
        raise InvalidObject(str(e), code.path) from None
    engine = make_engine(engine_name)
    try:
        engine.add_module(COMPAT_FILENAME, COMPAT_MODULE)
        for i, lib in enumerate(code.libs):
            engine.add_module(f"lib{i}.rego", _prepared(lib, code.version, engine_name))
        engine.add_module("template.rego", _prepared(code.rego, code.version, engine_name))
        engine.compile()
    except PolicyError as e:
        raise InvalidObject(f"the Rego does not compile: {_without_prefix(str(e))}", code.path) from None
    engine.set_data({"inventory": {}})
    return CompiledTemplate(template.kind, engine, f"data.{code.package}.violation")


def rego_line(template: Template, message: str) -> int:
    """The file line an engine error about ``template.rego`` points at (the rego block starts after its key)."""
    code = template.code
    match = _MODULE_LINE_RE.search(message)
    key_line = template.resource.line_of(code.path) if code else template.resource.line
    return key_line + int(match.group(1)) if match and code else key_line


def _prepared(source: str, version: str, engine: str) -> str:
    """The Rego as the engine should read it to mean what Gatekeeper's OPA reads (same line numbers)."""
    source = separate_parenthesized_statements(source)
    if engine == "regorus":
        source = pad_sprintf_arguments(source)
    return source if version == "v1" else rewrite_deprecated_calls(source)


def _without_prefix(message: str) -> str:
    return message.removeprefix("compile ").strip()


def _thread_cache() -> OrderedDict[tuple[Any, ...], CompiledTemplate]:
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
    return cache
