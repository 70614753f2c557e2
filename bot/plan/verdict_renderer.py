"""The `Renderer` the CLI and the App plug into the core: the plan's sandboxed kustomize build, cached by content."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

from bot.core.masking import mask_secrets
from bot.core.renderer import FAILED, REFUSED, RENDERED, UNAVAILABLE, RenderOutcome
from bot.errors import GitOpsBotError
from bot.plan.kustomize_runner import KustomizeNotFound, KustomizeRunner
from bot.plan.render import KustomizeInput, RenderRefused, build_kustomize_input

# Outcomes kept per process (an App worker judges the same roots at base and head, PR after PR).
CACHE_ENTRIES = 256


class KustomizeRenderer:
    """Builds a root with the plan's safe runner (safe flags, minimal environment, temp dir, time limit).

    Outcomes are cached by a hash of the root and every byte the build reads, so an
    unchanged root (base vs head, or a re-run) is not built again.
    """

    def __init__(self, runner: KustomizeRunner | None = None, cache_entries: int = CACHE_ENTRIES):
        self.runner = runner or KustomizeRunner()
        self.cache_entries = cache_entries
        self._cache: OrderedDict[str, RenderOutcome] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # kustomize runs so far (cache misses): the bench reports it

    def render(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome:
        key = content_key(root, files)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        outcome = self._build(root, files)
        with self._lock:
            self.builds += 1
            if outcome.status != UNAVAILABLE and not outcome.retry:  # a later run may succeed (binary, load)
                self._cache[key] = outcome
                while len(self._cache) > self.cache_entries:
                    self._cache.popitem(last=False)
        return outcome

    def _build(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome:
        try:
            output = build_kustomize_input(KustomizeInput(root, dict(files)), self.runner)
        except KustomizeNotFound as e:
            return RenderOutcome(UNAVAILABLE, reason=str(e))
        except RenderRefused as e:
            return RenderOutcome(REFUSED, reason=mask_secrets(str(e)))
        except GitOpsBotError as e:  # kustomize's error, or the time limit: fail closed (blocks)
            return RenderOutcome(FAILED, reason=mask_secrets(str(e)), retry="longer than" in str(e))
        except OSError as e:  # the sandbox or the binary itself
            return RenderOutcome(UNAVAILABLE, reason=f"kustomize could not run: {e.strerror or e}")
        return RenderOutcome(RENDERED, output=output)


def content_key(root: str, files: Mapping[str, bytes]) -> str:
    """A hash of the root and every (path, bytes) its build reads: equal trees share one render."""
    digest = hashlib.sha256(root.encode() + b"\0")
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()
