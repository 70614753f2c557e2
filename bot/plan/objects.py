"""Object-level diff of one root between base and head: noise removed, Secret values never shown."""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
import re
from collections.abc import Iterable
from typing import Any

from bot.core.changes import CREATE as CORE_CREATE
from bot.core.changes import DELETE as CORE_DELETE
from bot.core.changes import ObjectKey, pair_objects
from bot.core.masking import mask_secrets
from bot.core.resource import Resource
from bot.core.yaml_gateway import dump_yaml
from bot.plan.model import CREATE, DELETE, RENAME, UPDATE, ObjectDiff, SecretKeyChange, key_display
from bot.plan.risks import risks_of

CONTEXT_LINES = 3
# Added by kustomize and kubectl, never part of what the author wrote or what will change.
NOISE_ANNOTATION_PREFIXES = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/")
NOISE_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
# configMapGenerator / secretGenerator append "-" + 10 characters of a content hash.
_HASH_SUFFIX = re.compile(r"^(?P<stem>.+)-[a-z0-9]{10}$")
_REDACTED_LINE = re.compile(r"^[ +-] +[^\n]*: '?<redacted, \d+ bytes(?:, changed)?>'?$", re.MULTILINE)
_TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata")


def diff_objects(before: Iterable[Resource], after: Iterable[Resource], root: str) -> list[ObjectDiff]:
    """Every object created, changed, renamed or deleted between two renders of ``root``, sorted by key."""
    creates: list[tuple[ObjectKey, dict[str, Any]]] = []
    deletes: list[tuple[ObjectKey, dict[str, Any]]] = []
    diffs: list[ObjectDiff] = []
    for change in pair_objects(before, after):
        old = without_noise(change.before.obj) if change.before else None
        new = without_noise(change.after.obj) if change.after else None
        if change.operation == CORE_CREATE:
            creates.append((change.key, new or {}))
        elif change.operation == CORE_DELETE:
            deletes.append((change.key, old or {}))
        elif old != new:
            diffs.append(object_diff(UPDATE, change.key, old, new, root))
    renames = _pair_renames(deletes, creates)
    renamed_from = {new_key: old_key for old_key, new_key in renames}
    deleted = dict(deletes)
    renamed_old = set(renamed_from.values())
    for key, obj in creates:
        if key in renamed_from:
            old_key = renamed_from[key]
            diffs.append(object_diff(RENAME, key, deleted[old_key], obj, root, previous_key=old_key))
        else:
            diffs.append(object_diff(CREATE, key, None, obj, root))
    diffs.extend(object_diff(DELETE, key, obj, None, root) for key, obj in deletes if key not in renamed_old)
    return sorted(diffs, key=lambda d: (d.key, d.operation))


def object_diff(
    operation: str,
    key: ObjectKey,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    root: str,
    previous_key: ObjectKey | None = None,
) -> ObjectDiff:
    secret_keys: list[SecretKeyChange] = []
    shown_before, shown_after = before, after
    if _is_secret(key):
        shown_before, shown_after, secret_keys = redact_secret(before, after)
    diff = unified_diff(shown_before, shown_after, previous_key or key, key)
    return ObjectDiff(
        operation=operation,
        key=key,
        diff=_masked(diff),
        previous_key=previous_key,
        secret_keys=secret_keys,
        risks=risks_of(operation, key, before, after, root, previous_key),
    )


def _masked(diff: str) -> str:
    """`mask_secrets` over the whole diff, sparing our own size placeholders (it would hide the sizes)."""
    kept: list[str] = []

    def park(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\0{len(kept) - 1}\0"

    masked = mask_secrets(_REDACTED_LINE.sub(park, diff))
    return re.sub(r"\0(\d+)\0", lambda m: kept[int(m.group(1))], masked)


def without_noise(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without annotations that tools add (kustomize origin, last-applied-configuration)."""
    cleaned = copy.deepcopy(obj)
    metadata = cleaned.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        annotations = {
            k: v
            for k, v in metadata["annotations"].items()
            if k not in NOISE_ANNOTATIONS and not str(k).startswith(NOISE_ANNOTATION_PREFIXES)
        }
        if annotations:
            metadata["annotations"] = annotations
        else:
            del metadata["annotations"]
    return cleaned


def redact_secret(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[SecretKeyChange]]:
    """Both sides with every data/stringData value replaced by its size, and which keys changed.

    A changed value of the same size still shows in the diff: the head side is marked ``changed``.
    """
    old, new = _secret_values(before), _secret_values(after)
    changes: list[SecretKeyChange] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            changes.append(SecretKeyChange(key, "added", None, len(new[key])))
        elif key not in new:
            changes.append(SecretKeyChange(key, "removed", len(old[key]), None))
        elif old[key] != new[key]:
            changes.append(SecretKeyChange(key, "changed", len(old[key]), len(new[key])))
    changed = {c.key for c in changes if c.change == "changed"}
    return _redacted(before, old, set()), _redacted(after, new, changed), changes


def _secret_values(obj: dict[str, Any] | None) -> dict[str, bytes]:
    """The effective data of a Secret as bytes (stringData wins over data, as the API server does)."""
    if obj is None:
        return {}
    values: dict[str, bytes] = {}
    data = obj.get("data")
    if isinstance(data, dict):
        for k, v in data.items():
            try:
                values[str(k)] = base64.b64decode(str(v or ""), validate=False)
            except (binascii.Error, ValueError):
                values[str(k)] = str(v).encode()
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        for k, v in string_data.items():
            values[str(k)] = str("" if v is None else v).encode()
    return values


def _redacted(obj: dict[str, Any] | None, values: dict[str, bytes], changed: set[str]) -> dict[str, Any] | None:
    if obj is None:
        return None
    shown = {k: v for k, v in obj.items() if k not in ("data", "stringData")}
    for fieldname in ("data", "stringData"):
        original = obj.get(fieldname)
        if isinstance(original, dict):
            shown[fieldname] = {
                str(k): f"<redacted, {len(values.get(str(k), b''))} bytes{', changed' if str(k) in changed else ''}>"
                for k in original
            }
        elif original is not None:
            shown[fieldname] = "<redacted>"
    return shown


def unified_diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None, before_key: ObjectKey, after_key: ObjectKey
) -> str:
    old = object_yaml(before).splitlines() if before is not None else []
    new = object_yaml(after).splitlines() if after is not None else []
    lines = difflib.unified_diff(
        old,
        new,
        fromfile=f"base: {key_display(before_key)}" if before is not None else "/dev/null",
        tofile=f"head: {key_display(after_key)}" if after is not None else "/dev/null",
        n=CONTEXT_LINES,
        lineterm="",
    )
    return "\n".join(lines)


def object_yaml(obj: dict[str, Any]) -> str:
    """apiVersion, kind and metadata first, every mapping's keys sorted: the same object always reads the same."""
    ordered = {k: _sorted(obj[k]) for k in _TOP_LEVEL_ORDER if k in obj}
    ordered.update({k: _sorted(obj[k]) for k in sorted(obj, key=str) if k not in _TOP_LEVEL_ORDER})
    return dump_yaml(ordered)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):  # "name" first: list items read as "- name: web"
        return {k: _sorted(value[k]) for k in sorted(value, key=lambda k: (k != "name", str(k)))}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _is_secret(key: ObjectKey) -> bool:
    return key[0] == "" and key[1] == "Secret"


def _pair_renames(
    deletes: list[tuple[ObjectKey, dict[str, Any]]], creates: list[tuple[ObjectKey, dict[str, Any]]]
) -> list[tuple[ObjectKey, ObjectKey]]:
    """(old, new) pairs of one kind and namespace: same content but the name, or the same generator name stem."""
    pairs: list[tuple[ObjectKey, ObjectKey]] = []
    used: set[ObjectKey] = set()
    for matches in (_same_content, _same_name_stem):
        for old_key, old_obj in deletes:
            if any(old_key == p[0] for p in pairs):
                continue
            for new_key, new_obj in creates:
                if new_key in used or new_key[:3] != old_key[:3]:
                    continue
                if matches(old_key, old_obj, new_key, new_obj):
                    pairs.append((old_key, new_key))
                    used.add(new_key)
                    break
    return pairs


def _same_content(old_key: ObjectKey, old: dict[str, Any], new_key: ObjectKey, new: dict[str, Any]) -> bool:
    return _without_name(old) == _without_name(new)


def _same_name_stem(old_key: ObjectKey, old: dict[str, Any], new_key: ObjectKey, new: dict[str, Any]) -> bool:
    old_match, new_match = _HASH_SUFFIX.match(old_key[3]), _HASH_SUFFIX.match(new_key[3])
    return bool(old_match and new_match and old_match["stem"] == new_match["stem"])


def _without_name(obj: dict[str, Any]) -> dict[str, Any]:
    copied = dict(obj)
    metadata = dict(copied.get("metadata") or {}) if isinstance(copied.get("metadata"), dict) else {}
    metadata.pop("name", None)
    copied["metadata"] = metadata
    return copied
