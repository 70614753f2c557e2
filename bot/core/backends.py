"""What a front door may plug into `evaluate`: an out-of-process schema validator or policy evaluator.

The core stays free of HTTP and subprocesses: the edge package ``bot.backends``
implements these protocols (kubeconform, an OPA server) and the CLI or the App
passes them in ``EvalOptions.backends``. Each factory looks at the repository's
config and answers None when that repository does not ask for the backend, so
the embedded validator and the in-process Rego engine stay the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.core.config import RepoConfig
from bot.core.findings import Finding
from bot.core.resource import Resource
from bot.core.workspace import Workspace

OPA_SERVER_ENGINE = "opa-server"


class SchemaBackend(Protocol):
    def validate(self, head: Workspace, resources: Sequence[Resource], embedded: object) -> list[Finding]:
        """Schema findings for every resource; ``embedded`` (a `SchemaValidator`) checks what this backend cannot.

        Never raises for an unavailable tool: it falls back to ``embedded`` and says so in a notice finding.
        """


class PolicyEvaluator(Protocol):
    def evaluate(self, resources: Sequence[Resource], *, peers: Sequence[Resource] | None = None) -> list[Finding]:
        """Policy findings for every resource, the same findings a `PolicySet` would give.

        ``peers``: the objects applied together with ``resources`` (the inventory); default ``resources``.
        """


class PolicyBackend(Protocol):
    def load(
        self, trusted: Workspace, config: RepoConfig, extra_dirs: Sequence[str]
    ) -> Sequence[PolicyEvaluator]:
        """Evaluators for the trusted policies; raises `PolicyError` when a policy does not compile."""


class Backends(Protocol):
    """The factories a front door passes in ``EvalOptions.backends``."""

    def schema_backend(
        self, config: RepoConfig, kubernetes_version: str, strict: bool
    ) -> SchemaBackend | None:
        """The backend this repository asks for, or None for the embedded validator."""

    def policy_backend(self, config: RepoConfig, engine: str | None) -> PolicyBackend | None:
        """The backend for ``engine`` (the resolved engine name, None when nothing chose one), or None for in-process."""
