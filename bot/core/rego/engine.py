"""The one interface every Rego engine adapter offers, and the text helpers the adapters share (no adapter here)."""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.errors import PolicyError

ENGINES: tuple[str, ...] = ("regorus", "opa")
DEFAULT_ENGINE = "regorus"

_PACKAGE_RE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
# Both engines print "file.rego:LINE" (regorus as "--> file.rego:3:35").
_LOCATION_RE = re.compile(r"([\w./\\-]+\.rego):(\d+)")


class RegoEngine(Protocol):
    """A compiled set of Rego modules plus a data document, queried once per Kubernetes document.

    Build one per policy set and reuse it: compiling is the expensive part. An
    instance is not safe for concurrent use; callers serialise or clone.
    """

    name: str

    def add_module(self, filename: str, source: str) -> None:
        """Parse one module (Rego v1, falling back to v0); raises PolicyError("compile <file>: <msg>")."""

    def add_data(self, data: dict[str, Any]) -> None:
        """Deep-merge ``data`` into the data document."""

    def set_data(self, data: dict[str, Any]) -> None:
        """Replace the whole data document (per-evaluation facts such as the inventory)."""

    def compile(self) -> None:
        """Type-check every module together, so errors surface at load time rather than per document."""

    def evaluate(self, query: str, input: Any | None) -> Any:
        """Value of the single expression ``query`` (JSON types; sets as lists), or None when undefined."""

    def packages(self) -> list[str]:
        """Package names of the modules added (``main``, ``gitops.builtin.image_tag``), sorted, unique."""


def package_of(source: str) -> str:
    """The package a module declares, read from its text ("" when it has none)."""
    match = _PACKAGE_RE.search(_strip_comments(source))
    return match.group(1) if match else ""


def _strip_comments(source: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in source.splitlines())


def compile_error(default_file: str, message: str) -> PolicyError:
    """A PolicyError that names the file the engine blamed (or ``default_file``), without engine noise."""
    text = clean_engine_message(message)
    match = _LOCATION_RE.search(text)
    file = match.group(1) if match else default_file
    return PolicyError(f"compile {file}: {text}")


def clean_engine_message(message: str) -> str:
    """Drop native stack traces and blank lines that engines append to their messages."""
    text = message.split("Stack backtrace:", 1)[0]
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines)


def error_line(message: str) -> int:
    """Line number the engine blamed, 0 when none; used to pick the more informative of two parse errors."""
    match = _LOCATION_RE.search(message)
    return int(match.group(2)) if match else 0


def in_process_engine(name: str | None) -> str:
    """The engine that runs here for a trusted choice ``name``; an OPA server's policies are checked with OPA."""
    name = name or DEFAULT_ENGINE
    if name in ENGINES:
        return name
    return "opa" if name.startswith("opa") else DEFAULT_ENGINE
