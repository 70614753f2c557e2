"""The `Renderer` the CLI and the App plug into the core: the plan's sandboxed kustomize build and `helm template`, cached by content."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Protocol

from bot.core.charts import ChartRelease
from bot.core.masking import mask_secrets
from bot.core.renderer import FAILED, REFUSED, RENDERED, UNAVAILABLE, RenderOutcome
from bot.errors import ConfigError, GitOpsBotError
from bot.plan.helm import HelmInput, HelmNotFound, HelmRunner, helm_source_of
from bot.plan.kustomize_runner import SAFE_FLAGS, KustomizeNotFound, KustomizeRunner
from bot.plan.render import KustomizeInput, RenderRefused, build_kustomize_input

# Outcomes kept per process (an App worker judges the same roots at base and head, PR after PR).
CACHE_ENTRIES = 256
# Bumped when what the bot asks of a renderer changes (flags, build metadata, output handling): old entries then miss.
RENDER_FORMAT = "2"
MAX_ROOTS_VARIABLE = "GITOPS_BOT_MAX_RENDERED_ROOTS"
RENDER_CACHE_BYTES = 256 * 1024 * 1024  # the on-disk cache's bound (least recently used renders go first)


class OutcomeStore(Protocol):
    """Bytes by key, shared across processes (bot.github.content_cache.DiskStore); `put` may drop anything."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


class KustomizeRenderer:
    """Builds a root with the plan's safe runner (safe flags, minimal environment, temp dir, time limit),
    and a repository chart's release with the plan's `HelmRunner` when the operator turned Helm on.

    Outcomes are cached by a hash of the root and every byte the build reads: in memory per
    process, and in ``store`` (on disk) across processes, keyed also by the renderer binary
    (path, size, modification time) and the flags, so an unchanged root is not built again.
    """

    def __init__(self, runner: KustomizeRunner | None = None, cache_entries: int = CACHE_ENTRIES,
                 helm: HelmRunner | None = None, store: OutcomeStore | None = None) -> None:
        self.runner = runner or KustomizeRunner()
        self.helm = helm or HelmRunner(enabled=False)
        self.store = store
        self.cache_entries = cache_entries
        self._cache: OrderedDict[str, RenderOutcome] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # kustomize / helm runs so far (cache misses): the bench and tests read it

    @property
    def helm_enabled(self) -> bool:
        return self.helm.enabled

    def render(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome:
        command = self.runner.command()
        identity = ["kustomize", *(command or ["-"]), *SAFE_FLAGS]
        return self._cached(content_key(root, files), identity, lambda: self._build(root, files))

    def render_chart(self, release: ChartRelease, files: Mapping[str, bytes]) -> RenderOutcome:
        identity = ["helm", self.helm.binary() or "-", "template", "--no-hooks"]
        key = content_key(f"helm\0{release.chart}\0{release.release}\0{release.namespace}\0"
                          f"{release.value_files}\0{release.inline_values}", files)
        return self._cached(key, identity, lambda: self._template(release, files))

    def _cached(self, key: str, identity: list[str], build: Callable[[], RenderOutcome]) -> RenderOutcome:
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        stored_key = _store_key(key, identity)
        outcome = _decode(self.store.get(stored_key)) if self.store is not None else None
        if outcome is None:
            outcome = build()
            with self._lock:
                self.builds += 1
            if self.store is not None and _keep(outcome):
                self.store.put(stored_key, _encode(outcome))
        if _keep(outcome):
            with self._lock:
                self._cache[key] = outcome
                while len(self._cache) > self.cache_entries:
                    self._cache.popitem(last=False)
        return outcome

    def _build(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome:
        try:
            output = build_kustomize_input(KustomizeInput(root, dict(files)), self.runner)
        except KustomizeNotFound as e:
            return RenderOutcome(UNAVAILABLE, reason=str(e))
        except (RenderRefused, GitOpsBotError, OSError) as e:
            return _failure(e, "kustomize")
        return _outcome(output)

    def _template(self, release: ChartRelease, files: Mapping[str, bytes]) -> RenderOutcome:
        try:
            output = self.helm.template(HelmInput(helm_source_of(release), dict(files)))
        except HelmNotFound as e:
            return RenderOutcome(UNAVAILABLE, reason=str(e))
        except (RenderRefused, GitOpsBotError, OSError) as e:
            return _failure(e, "helm")
        return _outcome(output)


def _outcome(output: bytes) -> RenderOutcome:
    return RenderOutcome(RENDERED, output=output)


def _failure(e: Exception, what: str) -> RenderOutcome:
    if isinstance(e, RenderRefused):
        return RenderOutcome(REFUSED, reason=mask_secrets(str(e)))
    if isinstance(e, GitOpsBotError):  # the renderer's error, or a limit: fail closed (blocks)
        return RenderOutcome(FAILED, reason=mask_secrets(str(e)), retry="longer than" in str(e))
    assert isinstance(e, OSError)  # the sandbox or the binary itself
    return RenderOutcome(UNAVAILABLE, reason=f"{what} could not run: {e.strerror or e}")


def _keep(outcome: RenderOutcome) -> bool:
    """A missing binary or a time limit may go away on the next run: never cached."""
    return outcome.status != UNAVAILABLE and not outcome.retry


def content_key(root: str, files: Mapping[str, bytes]) -> str:
    """A hash of the root and every (path, bytes) its build reads: equal trees share one render."""
    digest = hashlib.sha256(root.encode() + b"\0")
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


def _store_key(key: str, identity: list[str]) -> str:
    """The content key plus what renders it: the binary (path, size, modification time), the flags, our format."""
    parts = [f"render:{RENDER_FORMAT}", key]
    for item in identity:
        parts.append(item)
        if os.path.isabs(item):
            try:
                stat = os.stat(item)
            except OSError:
                continue
            parts.append(f"{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _encode(outcome: RenderOutcome) -> bytes:
    header = json.dumps({"status": outcome.status, "reason": outcome.reason}).encode()
    return header + b"\n" + outcome.output


def _decode(data: bytes | None) -> RenderOutcome | None:
    """A stored outcome; None (a miss) for anything that does not read back whole."""
    if not data:
        return None
    header, _, output = data.partition(b"\n")
    try:
        meta = json.loads(header)
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("status") not in (RENDERED, REFUSED, FAILED):
        return None
    return RenderOutcome(str(meta["status"]), output=output, reason=str(meta.get("reason", "")))


def renderer_from_environ(environ: Mapping[str, str], store: OutcomeStore | None) -> KustomizeRenderer:
    """The front doors' renderer: kustomize from PATH, Helm as the operator switched it (GITOPS_BOT_HELM)."""
    return KustomizeRenderer(helm=HelmRunner.from_environ(environ), store=store)


def max_rendered_roots(environ: Mapping[str, str], default: int) -> int:
    """``GITOPS_BOT_MAX_RENDERED_ROOTS`` (a positive integer), else ``default``."""
    text = environ.get(MAX_ROOTS_VARIABLE, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{MAX_ROOTS_VARIABLE} must be a positive integer, got {text!r}")
    return int(text)
