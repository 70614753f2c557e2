"""The Rego grammar a template is written in, checked as Gatekeeper checks it: v0 unless the source says ``version: v1``.

Both of our engines are lenient: regorus reads ``violation contains msg if`` in a v0
module (with a warning) and every module is tried as v1 first. Gatekeeper parses a
template strictly in its declared version, so modern keywords in a v0 template need
``import rego.v1`` (or ``future.keywords``), and a ``version: v1`` template must be v1.
"""

from __future__ import annotations

import re

import regorus

from bot.core.gatekeeper.compat import split_code
from bot.core.rego.v0_upgrade import looks_like_v0

V0_KEYWORDS = ("contains", "every", "if", "in")
_IMPORT_RE = re.compile(r"^\s*import\s+(rego\.v1|future\.keywords(?:\.(\w+))?)\s*$", re.MULTILINE)
_KEYWORD_RE = re.compile(r"(?<![\w.])(contains|every|if|in)\b(?!\s*\()")


def grammar_problem(source: str, version: str) -> str | None:
    """Why Gatekeeper would not parse ``source`` as Rego ``version`` ("v0" or "v1"), if it would not."""
    if version == "v1":
        return _v1_problem(source)
    imported = _imported_keywords(source)
    code = "".join(chunk for is_code, chunk in split_code(_IMPORT_RE.sub("", source)) if is_code)
    missing = sorted({m.group(1) for m in _KEYWORD_RE.finditer(code)} - imported)
    if not missing:
        return None
    used = ", ".join(f"`{k}`" for k in missing)
    return (
        f"the Rego uses {used}, which Rego v0 (a template's default) only knows after `import rego.v1`; "
        "add that import or declare `version: v1` in the code source"
    )


def _imported_keywords(source: str) -> set[str]:
    imported: set[str] = set()
    for match in _IMPORT_RE.finditer(source):
        imported.update(V0_KEYWORDS if match.group(2) is None else {match.group(2)})
    return imported


def _v1_problem(source: str) -> str | None:
    parser = regorus.Engine()  # regorus parses Rego v1 unless told otherwise
    try:
        parser.add_policy("template.rego", source)
    except RuntimeError as e:
        if not looks_like_v0(str(e)):
            return None  # another mistake: the engine that compiles the template reports it, with its line
        detail = next((line.strip() for line in str(e).splitlines() if line.strip().startswith("error")), "")
        return f"the Rego is declared `version: v1` but is written in Rego v0 ({detail.removeprefix('error: ')})"
    return None
