"""Where the built-in Kubernetes JSON schemas live and how an apiVersion/kind maps to one of them."""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

# The oldest Kubernetes minor we accept: older bundled schemas (if any) describe clusters
# that no longer get security fixes, so a typo there is more likely than a real target.
OLDEST_SUPPORTED_MINOR = 25

# The base URI every bundled kind schema resolves its ``/api/_definitions.json#/$defs/...`` refs against.
DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"

SCHEMA_SOURCE = "kubernetes-validate"

_DIR_PATTERN = re.compile(r"^v1\.(\d+)\.0-local$")
# kubernetes_validate/utils.py: "rbac.authorization.k8s.io/v1" -> "rbac-v1", "v1" -> "v1".
_GROUP_SUFFIX = re.compile(r"^([^./]*)(?:\.[^/]*)?/")


@cache
def schema_root() -> Path:
    """The bundled ``kubernetes-json-schema`` directory of the installed kubernetes-validate."""
    return Path(str(resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")))


@cache
def _shipped_versions() -> tuple[str, ...]:
    minors = []
    for entry in schema_root().iterdir():
        match = _DIR_PATTERN.match(entry.name)
        if match and int(match.group(1)) >= OLDEST_SUPPORTED_MINOR:
            minors.append(int(match.group(1)))
    return tuple(f"1.{minor}" for minor in sorted(minors))


def supported_kubernetes_versions() -> list[str]:
    """``["1.25", ..., newest]``: the minors whose schemas the installed kubernetes-validate ships."""
    return list(_shipped_versions())


def normalize_version(version: str) -> str:
    """``"v1.31.2"`` -> ``"1.31"``; raises ConfigError naming the supported versions otherwise."""
    text = str(version).strip().lstrip("vV")
    match = re.match(r"^(\d+)\.(\d+)(?:\.\d+)?$", text)
    minor = f"{match.group(1)}.{int(match.group(2))}" if match else text
    supported = _shipped_versions()
    if minor not in supported:
        listed = ", ".join(supported)
        raise ConfigError(
            f"Kubernetes version {version!r} is not supported for schema validation; "
            f"supported versions: {listed} (from the installed {SCHEMA_SOURCE})"
        )
    return minor


def version_key(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def _version_dir(version: str, strict: bool) -> Path:
    return schema_root() / f"v{version}.0-local{'-strict' if strict else ''}"


def kind_file_name(api_version: str, kind: str) -> str:
    """The bundled file name for an apiVersion/kind, as kubernetes-validate computes it."""
    group_version = _GROUP_SUFFIX.sub(r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; ``"v1"`` -> ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


@lru_cache(maxsize=1024)
def load_kind_schema(version: str, strict: bool, api_version: str, kind: str) -> dict[str, Any] | None:
    """The bundled schema of exactly this group/version/kind, or None if none is shipped.

    kubernetes-validate's file names drop the group's domain, so ``apps.example.com/v1 Deployment``
    would hit ``deployment-apps-v1.json``; the schema's own group-version-kind list decides
    (kind compared without case, so ``kind: deployment`` gets a precise enum finding instead).
    """
    if not api_version or not kind or "\x00" in api_version + kind or ".." in api_version + kind:
        return None
    path = _version_dir(version, strict) / kind_file_name(api_version, kind)
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    group, ver = split_api_version(api_version)
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if not any(
        g.get("group", "") == group and g.get("version") == ver and str(g.get("kind")).lower() == kind.lower()
        for g in gvks
    ):
        return None
    return schema


def load_definitions(version: str, strict: bool) -> dict[str, Any]:
    """A fresh copy of the shared ``_definitions.json`` (several MB: callers cache what they derive)."""
    definitions: dict[str, Any] = json.loads((_version_dir(version, strict) / "_definitions.json").read_text(encoding="utf-8"))
    return definitions
