"""Which objects a cross-object rule sees together: one deploy target each (a rendered root, else the targets of the tree)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from bot.core.deploy_targets import find_deploy_targets, target_groups
from bot.core.rendered import is_rendered_label
from bot.core.resource import Resource
from bot.core.workspace import Workspace


def inventory_groups(
    resources: Sequence[Resource], ws: Workspace
) -> list[tuple[list[Resource], list[Resource]]]:
    """(judged, peers) pairs for cross-object rules; targets are only worked out when some identity repeats.

    An object whose identity is unique among ``resources`` sees them all (the answer is the
    same in every target), so the common case costs nothing beyond one pass.
    """
    by_root: dict[str, list[Resource]] = {}
    documents = []
    for r in resources:
        if r.is_patch:
            continue
        if is_rendered_label(r.file):  # a rendered root is one deploy target: no tree scan needed for it
            by_root.setdefault(posixpath.dirname(r.file), []).append(r)
        else:
            documents.append(r)
    return [(objects, objects) for _, objects in sorted(by_root.items())] + _file_groups(documents, ws)


def _file_groups(documents: list[Resource], ws: Workspace) -> list[tuple[list[Resource], list[Resource]]]:
    counts: dict[tuple[str, str, str, str], int] = {}
    for r in documents:
        counts[r.ref.key()] = counts.get(r.ref.key(), 0) + 1
    repeated = [r for r in documents if counts[r.ref.key()] > 1]
    if not repeated:
        return [(documents, documents)] if documents else []
    unique = [r for r in documents if counts[r.ref.key()] == 1]
    groups = target_groups(repeated, find_deploy_targets(ws))
    return ([(unique, documents)] if unique else []) + groups
