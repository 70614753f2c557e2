"""The questions the core asks a renderer (kustomize roots, Helm releases); the front doors plug one in from `bot.plan`.

The core never runs a subprocess: it reads the files a root's build needs, hands
them to a `Renderer` (as `bot.backends` hands schema checks to kubeconform) and
judges the YAML that comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.core.charts import ChartRelease

RENDERED, REFUSED, FAILED, UNAVAILABLE = "rendered", "refused", "failed", "unavailable"


@dataclass(frozen=True)
class RenderOutcome:
    """What one build produced: the YAML stream, or why there is none (``status`` other than rendered)."""

    status: str
    output: bytes = b""
    reason: str = ""
    retry: bool = False  # a transient failure (a time limit): never cached

    @property
    def rendered(self) -> bool:
        return self.status == RENDERED


class Renderer(Protocol):
    """Builds one kustomize root from the bytes of the files it reads (tree paths, forward slashes).

    Contract: never raises for bad input; a refused, failed, timed-out or impossible build is an
    outcome with a reason naming no host path. The same inputs give the same outcome (callers may cache).
    Called from several threads at once.
    """

    def render(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome: ...

    @property
    def helm_enabled(self) -> bool:
        """Whether the operator turned Helm rendering on (``GITOPS_BOT_HELM``); off, charts are listed as not rendered."""
        ...

    def render_chart(self, release: ChartRelease, files: Mapping[str, bytes]) -> RenderOutcome:
        """`helm template` of one release from the chart's and value files' bytes; the same contract as `render`.

        The output keeps Helm's ``# Source: <chart>/templates/<file>`` comments: they say which template made each object.
        """
        ...
