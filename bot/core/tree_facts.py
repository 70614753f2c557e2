"""What judging one file of a tree needs from the other files: CRDs, inventory keys, Secret values, Gatekeeper objects.

Kept compact (no parsed object survives except CRDs) so a whole-tree check holds them for
20,000 documents in a few megabytes. A byte scan says up front which files hold CRDs or
Gatekeeper objects; the judged chunks report what they really held, and the caller
checks the scan was right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.gatekeeper.compat import split_code
from bot.core.gatekeeper.expansion import EXPANSION_GROUP
from bot.core.gatekeeper.objects import CONSTRAINTS_GROUP, TEMPLATES_GROUP
from bot.core.masking import secret_values
from bot.core.rego.inventory import inventory_key
from bot.core.resource import Resource
from bot.core.workspace import Workspace

GATEKEEPER_GROUPS = frozenset({TEMPLATES_GROUP, CONSTRAINTS_GROUP, EXPANSION_GROUP})
CRD_KIND = "CustomResourceDefinition"
# The built-in rule that reads the inventory; its findings are judged after the other rules (see bot.core.parallel).
DUPLICATE_PACKAGE = "gitops.builtin.duplicate_object"
DUPLICATE_RULE = "duplicate-object"  # its rule id

# A CRD or a Gatekeeper object names its kind or group literally unless YAML or JSON escapes
# spell it; the judged chunks report what they really held, so a scan fooled that way costs a rerun.
_CRD_MARK = CRD_KIND.encode()
_GATEKEEPER_MARK = b"gatekeeper.sh"
# ``data`` followed by a path: where a module reads from. Anything but data.gitops.lib and
# data.gitops.builtin (rules and helpers, themselves checked) under data.gitops may be the inventory.
_DATA_REF = re.compile(r"\bdata\b((?:\s*\.\s*\w+)*)")
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)", re.MULTILINE)


@dataclass
class ChunkFacts:
    """The cross-object facts of one chunk of files."""

    inventory: list[tuple[str, str, int]] = field(default_factory=list)  # (key, file, line) per non-patch object
    crds: list[Resource] = field(default_factory=list)
    secrets: frozenset[str] = frozenset()
    gatekeeper: bool = False  # a Gatekeeper template, constraint or expansion template is among the objects

    @classmethod
    def of(cls, resources: Sequence[Resource]) -> ChunkFacts:
        return cls(
            inventory=[(inventory_key(r.ref), r.file, r.line) for r in resources if not r.is_patch],
            crds=[r for r in resources if r.kind == CRD_KIND],
            secrets=secret_values(resources),
            gatekeeper=any(r.ref.group in GATEKEEPER_GROUPS for r in resources),
        )


@dataclass
class TreeFacts:
    """The facts of the whole tree that every chunk is judged with."""

    inventory: dict[str, list[dict[str, object]]]  # empty: the inventory's one reader runs afterwards
    crds: list[Resource]

    @classmethod
    def merge(cls, chunks: Sequence[ChunkFacts]) -> TreeFacts:
        """In chunk order, so the inventory lists definitions in the order a one-piece load would."""
        inventory: dict[str, list[dict[str, object]]] = {}
        for chunk in chunks:
            for key, file, line in chunk.inventory:
                inventory.setdefault(key, []).append({"file": file, "line": line})
        return cls(inventory, [crd for chunk in chunks for crd in chunk.crds])


@dataclass
class Scan:
    """Files that name CRDs, and whether any file names Gatekeeper's groups (escaped spellings are missed)."""

    crd_files: list[str]
    gatekeeper: bool


def scan_tree(ws: Workspace, paths: Sequence[str], max_bytes: int) -> Scan:
    """Read each file's bytes once, without parsing, and forget them."""
    crd_files: list[str] = []
    gatekeeper = False
    for path in paths:
        size = ws.size(path)
        if size is not None and size > max_bytes:
            continue  # the loader reports it as too large and never reads it
        data = ws.read(path) or b""
        ws.forget([path])
        if _CRD_MARK in data:
            crd_files.append(path)
        gatekeeper = gatekeeper or _GATEKEEPER_MARK in data
    return Scan(crd_files, gatekeeper)


def other_inventory_readers(modules: Sequence[tuple[str, str]]) -> bool:
    """Whether a policy module other than the built-in duplicate rule may read ``data.gitops.inventory``.

    Errs on yes: ``data`` alone, ``data[...]`` or ``data.gitops`` outside ``lib``/``builtin`` count.
    """
    for _name, source in modules:
        text = " ".join(piece if is_code else " " for is_code, piece in split_code(source))  # no comments, no strings
        package = _PACKAGE.search(text)
        if package and package.group(1) == DUPLICATE_PACKAGE:
            continue
        for match in _DATA_REF.finditer(text):
            segments = [s.strip() for s in match.group(1).split(".") if s.strip()]
            if _may_reach_inventory(segments):
                return True
    return False


def _may_reach_inventory(segments: list[str]) -> bool:
    if not segments:
        return True  # data itself, or data[...]
    if segments[0] != "gitops":
        return False
    if len(segments) < 2:
        return True
    if segments[1] == "builtin":  # another rule's results: only the duplicate rule's depend on the inventory
        return len(segments) < 3 or segments[2] == DUPLICATE_PACKAGE.rsplit(".", 1)[1]
    return segments[1] != "lib"
