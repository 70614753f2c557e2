"""Where a finding on a Helm-rendered object is reported: the values line that set the field, else its template file.

Helm says which template made an object (``# Source:``) but not which template line made
a field: Go templates can compute, loop and include, so no line is recoverable in
general. What can be shown honestly: when the field's template line reads ``.Values.x.y`` and exactly
one values entry that Helm would use (the highest of inline values, value files, the
chart's values.yaml) holds the rendered value, that values line decides the field —
the line a person edits. The template line is found by the field's key, trusted only
when the key is written once in the template. Otherwise the finding points at the template's first line and
says the line within it is not known.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from bot.core.charts import ChartRelease
from bot.core.field_values import MISSING, deepest_present, doc_position, value_at
from bot.core.resource import FieldPath
from bot.core.yamlpos import YamlDocument

Location = tuple[str, int, int]  # file, line, column
_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
# Where inline values sit in the deployer's document: Flux spec.values, Argo CD spec.source.helm.valuesObject.
_INLINE_PREFIXES: tuple[FieldPath, ...] = (("spec", "values"), ("spec", "source", "helm", "valuesObject"))
UNKNOWN_LINE = "Helm does not say which line of a template made a field"


def locate_in_chart(
    release: ChartRelease, template: str, obj: dict[str, Any], path: FieldPath,
    documents: Callable[[str], list[YamlDocument]], read_text: Callable[[str], str],
) -> tuple[Location, str]:
    """(file, line, column) for ``path`` of a rendered object, and a note for the message saying how it was found."""
    present = deepest_present(obj, path)
    value = value_at(obj, present)
    if template and present and not isinstance(value, dict | list):
        written = _written_from(read_text(template), present)
        found = _values_entry(release, *written, value, present, documents) if written else None
        if found is not None:
            (file, line, column), ref = found
            return (file, line, column), f"(Helm takes it from `.Values.{'.'.join(map(str, ref))}` in {template})"
    where = template or release.chart_file
    return (where, 1, 1), f"(rendered by Helm from {where}; {UNKNOWN_LINE})"


def _written_from(text: str, path: FieldPath) -> tuple[set[FieldPath], FieldPath] | None:
    """The ``.Values`` paths the template line of ``path`` (or of its nearest ancestor) reads, and the rest of ``path``.

    Only a key written once in the template is trusted; its line, and a template action on the next
    line (``{{ toYaml .Values.x | nindent 8 }}``), hold the references. A key written with no
    reference is literal in the template: no values line decides it.
    """
    lines = text.splitlines()
    for depth in range(len(path), 0, -1):
        name = path[depth - 1]
        if not isinstance(name, str):
            continue
        at = [i for i, line in enumerate(lines) if line.strip().removeprefix("- ").startswith(f"{name}:")]
        if len(at) != 1:
            continue
        written = lines[at[0]]
        following = lines[at[0] + 1].strip() if at[0] + 1 < len(lines) else ""
        if following.startswith("{{"):
            written += following
        refs = {tuple(m.group(1).split(".")[1:]) for m in _VALUES_REF.finditer(written)}
        return (refs, path[depth:]) if refs else None
    return None


def _values_entry(
    release: ChartRelease, refs: set[FieldPath], rest: FieldPath, value: Any, path: FieldPath,
    documents: Callable[[str], list[YamlDocument]],
) -> tuple[Location, FieldPath] | None:
    """The one values entry Helm uses for a reference that holds the rendered value; None when none or several do."""
    sources = _sources(release, documents)
    found: dict[Location, FieldPath] = {}
    for ref in sorted(refs, key=str):
        key = (*ref, *rest)
        for file, doc, prefix in sources:  # highest precedence first: the first that sets the key decides
            held = value_at(doc.value, (*prefix, *key))
            if held is MISSING:
                continue
            if _same(held, value, path):
                found.setdefault((file, *doc_position(doc, (*prefix, *key))), key)
            break
    return next(iter(found.items())) if len(found) == 1 else None


def _sources(release: ChartRelease, documents: Callable[[str], list[YamlDocument]]) -> list[tuple[str, YamlDocument, FieldPath]]:
    out: list[tuple[str, YamlDocument, FieldPath]] = []
    if release.inline_values:
        for doc in documents(release.file):
            if doc.line >= release.line:
                prefix = next((p for p in _INLINE_PREFIXES if isinstance(value_at(doc.value, p), dict)), None)
                if prefix is not None:
                    out.append((release.file, doc, prefix))
                break
    for file in reversed(release.value_files):
        out.extend((file, doc, ()) for doc in documents(file)[:1])
    if not release.replaces_chart_values:
        chart_values = posixpath.join(release.chart, "values.yaml")
        out.extend((chart_values, doc, ()) for doc in documents(chart_values)[:1])
    return out


def _same(held: Any, rendered: Any, path: FieldPath) -> bool:
    """The values entry is the rendered scalar (same type: YAML's true is not 1), or an image's tag."""
    if isinstance(held, dict | list) or type(held) is not type(rendered):
        return False
    if held == rendered:
        return True
    if path and path[-1] == "image" and isinstance(rendered, str) and isinstance(held, str) and held:
        last = rendered.rsplit("/", 1)[-1]
        return ":" in last and last.rsplit(":", 1)[1].split("@")[0] == held
    return False
