"""The cross-document facts policies read from ``data.gitops.inventory`` (one key per object identity)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.findings import ResourceRef
from bot.core.resource import Resource

INVENTORY_PATH = ("gitops", "inventory")


def inventory_key(ref: ResourceRef) -> str:
    """``<group>/<kind>/<namespace>/<name>``: group "" for core kinds, namespace "" when unset."""
    group, kind, namespace, name = ref.key()
    return f"{group}/{kind}/{namespace}/{name}"


def build_inventory(resources: Sequence[Resource]) -> dict[str, list[dict[str, object]]]:
    """Where each object identity is defined, so a duplicates rule is one lookup per document."""
    inventory: dict[str, list[dict[str, object]]] = {}
    for resource in resources:
        inventory.setdefault(inventory_key(resource.ref), []).append(
            {"file": resource.file, "line": resource.line}
        )
    return inventory
