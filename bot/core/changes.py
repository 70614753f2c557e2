"""Object-level changes between two sets of resources: what was created, updated or deleted.

Shared by change-aware policies (package `gitops.change`) and the plan.
Objects are matched by identity (group, kind, namespace, name), never by file,
so an object moved to another file is an update (or nothing), not a delete + create.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.resource import Resource

ObjectKey = tuple[str, str, str, str]  # (group, kind, namespace, name)

CREATE, UPDATE, DELETE = "create", "update", "delete"


@dataclass(frozen=True)
class ObjectChange:
    operation: str  # create | update | delete
    key: ObjectKey
    before: Resource | None
    after: Resource | None

    @property
    def current(self) -> Resource:
        """The side that exists now (after), or what was deleted (before)."""
        resource = self.after or self.before
        assert resource is not None
        return resource


def index_objects(resources: Iterable[Resource]) -> dict[ObjectKey, Resource]:
    """Last definition wins, as `kubectl apply` of a stream would; patches are not objects."""
    return {r.ref.key(): r for r in resources if not r.is_patch and r.kind and r.name}


def pair_objects(before: Iterable[Resource], after: Iterable[Resource]) -> list[ObjectChange]:
    """Every created, updated (content differs) and deleted object, sorted by key."""
    old, new = index_objects(before), index_objects(after)
    changes: list[ObjectChange] = []
    for key in sorted(old.keys() | new.keys()):
        b, a = old.get(key), new.get(key)
        if b is None:
            changes.append(ObjectChange(CREATE, key, None, a))
        elif a is None:
            changes.append(ObjectChange(DELETE, key, b, None))
        elif a.obj != b.obj:
            changes.append(ObjectChange(UPDATE, key, b, a))
    return changes
