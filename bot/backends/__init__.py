"""Edge backends that run outside the process: kubeconform (a subprocess) and an OPA server (HTTP).

Front doors build `EdgeBackends` from the environment and pass it in
``EvalOptions.backends``; the core only sees the protocols of `bot.core.backends`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from bot.backends.kubeconform import DEFAULT_TIMEOUT_SECONDS as KUBECONFORM_TIMEOUT
from bot.backends.kubeconform import KubeconformBackend, KubeconformSettings
from bot.backends.opa_server import DEFAULT_TIMEOUT_SECONDS as OPA_TIMEOUT
from bot.backends.opa_server import OpaServerBackend, OpaServerSettings
from bot.core.backends import OPA_SERVER_ENGINE
from bot.core.config import RepoConfig


@dataclass(frozen=True)
class EdgeBackends:
    """`bot.core.backends.Backends` from operator settings; the repository's config decides per evaluation.

    The operator's ``OPA_URL`` wins over a repository's ``policies.opa.url``, and the
    kubeconform binary only ever comes from ``KUBECONFORM_PATH`` or ``PATH``: a
    repository's config never chooses a host to call or a program to run.
    """

    opa_url: str = ""  # $OPA_URL
    kubeconform_path: str = ""  # $KUBECONFORM_PATH: also turns kubeconform on for every repository
    search_path: str | None = None  # $PATH, where kubeconform is looked for otherwise
    # $KUBECONFORM_SCHEMA_LOCATIONS: the schema locations the operator allows (whitespace-separated)
    schema_locations: tuple[str, ...] = ()
    # False in the App: a repository's policies.opa.url, kubeconform.enabled and schemaLocations would
    # make the bot call any host its config names. They then only pick among the operator's choices.
    repository_opa_url: bool = True

    def schema_backend(
        self, config: RepoConfig, kubernetes_version: str, strict: bool
    ) -> KubeconformBackend | None:
        """kubeconform when the operator turned it on (or allowed locations a repository may switch it on for).

        In the App a repository's ``schemaLocations`` only narrows the operator's list; a location the
        operator did not allow is dropped (the repository's choice never reaches kubeconform).
        """
        operator_allows = bool(self.kubeconform_path or self.schema_locations)
        if not (self.kubeconform_path or (config.kubeconform_enabled and (operator_allows or self.repository_opa_url))):
            return None
        binary = self.kubeconform_path or shutil.which("kubeconform", path=self.search_path) or ""
        settings = KubeconformSettings(
            binary=binary,
            kubernetes_version=kubernetes_version,
            strict=strict,
            schema_locations=self.locations_for(config),
            timeout_seconds=config.kubeconform_timeout_seconds or KUBECONFORM_TIMEOUT,
        )
        return KubeconformBackend(settings, config_file=config.source)

    def locations_for(self, config: RepoConfig) -> tuple[str, ...]:
        """The ``-schema-location`` values: the repository's picks among the operator's, else the operator's."""
        wanted = config.kubeconform_schema_locations
        if self.repository_opa_url and not self.schema_locations:
            return wanted  # the CLI: the person running it owns both the repository and the machine
        picked = tuple(loc for loc in wanted if loc in self.schema_locations)
        return picked or self.schema_locations

    def policy_backend(self, config: RepoConfig, engine: str | None) -> OpaServerBackend | None:
        """The OPA server for ``engine == "opa-server"``, or when no engine was chosen and ``OPA_URL`` is set."""
        url = self.opa_url or (config.opa_url if self.repository_opa_url else "")
        wanted = engine == OPA_SERVER_ENGINE or (engine is None and bool(self.opa_url))
        if not wanted or not url:
            return None
        settings = OpaServerSettings(
            url=url,
            timeout_seconds=config.opa_timeout_seconds or OPA_TIMEOUT,
            push_policies=config.opa_push_policies,
        )
        return OpaServerBackend(settings)


def edge_backends(environ: Mapping[str, str], *, repository_opa_url: bool = True) -> EdgeBackends:
    """Read once by the front door (the CLI, the App's settings), never by the core.

    The App passes ``repository_opa_url=False``: only its operator's ``OPA_URL`` is ever called.
    """
    return EdgeBackends(
        opa_url=environ.get("OPA_URL", "").strip(),
        kubeconform_path=environ.get("KUBECONFORM_PATH", "").strip(),
        search_path=environ.get("PATH"),
        schema_locations=tuple(environ.get("KUBECONFORM_SCHEMA_LOCATIONS", "").split()),
        repository_opa_url=repository_opa_url,
    )


__all__ = ["EdgeBackends", "KubeconformBackend", "OpaServerBackend", "edge_backends"]
