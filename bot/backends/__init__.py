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
    # False in the App: a repository's policies.opa.url would make the bot call any host its config names.
    repository_opa_url: bool = True

    def schema_backend(
        self, config: RepoConfig, kubernetes_version: str, strict: bool
    ) -> KubeconformBackend | None:
        if not (config.kubeconform_enabled or self.kubeconform_path):
            return None
        binary = self.kubeconform_path or shutil.which("kubeconform", path=self.search_path) or ""
        settings = KubeconformSettings(
            binary=binary,
            kubernetes_version=kubernetes_version,
            strict=strict,
            schema_locations=config.kubeconform_schema_locations,
            timeout_seconds=config.kubeconform_timeout_seconds or KUBECONFORM_TIMEOUT,
        )
        return KubeconformBackend(settings, config_file=config.source)

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
        repository_opa_url=repository_opa_url,
    )


__all__ = ["EdgeBackends", "KubeconformBackend", "OpaServerBackend", "edge_backends"]
