"""The ``data`` a template may read: Gatekeeper's Rego rewriter allows only ``data.inventory`` and ``data.lib``.

frameworks' ``RegoRewriter.checkDataReferences`` refuses a template that refers to any
other part of ``data`` (``data.kubernetes.namespaces`` from kube-mgmt days, a
conftest-style ``data.main``): Gatekeeper marks it as failing and never enforces
its constraints, while offline it would just read undefined and pass everything.
"""

from __future__ import annotations

import re

from bot.core.gatekeeper.compat import split_code

ALLOWED_ROOTS = ("inventory", "lib")
_DATA_REF_RE = re.compile(r"(?<![\w.])data\b(?:\s*\.\s*([A-Za-z_]\w*)|\s*(\[)\s*$)?")


def disallowed_data_refs(source: str) -> list[str]:
    """``data`` references outside ``data.inventory`` and ``data.lib``, in order, without repeats."""
    found: list[str] = []
    chunks = split_code(source)
    for i, (is_code, chunk) in enumerate(chunks):
        if not is_code:
            continue
        for match in _DATA_REF_RE.finditer(chunk):
            root = match.group(1)
            if match.group(2) and i + 1 < len(chunks):  # data["inventory"]: the key is the next (string) piece
                root = chunks[i + 1][1].strip("\"`")
            shown = f"data.{root}" if root else "data"
            if root not in ALLOWED_ROOTS and shown not in found:
                found.append(shown)
    return found


def data_ref_problem(source: str) -> str | None:
    refs = disallowed_data_refs(source)
    if not refs:
        return None
    allowed = " and ".join(f"data.{root}" for root in ALLOWED_ROOTS)
    return f"the Rego refers to {', '.join(refs)}; Gatekeeper only lets templates read {allowed}"
