"""Render a Helm chart an Argo CD Application deploys from this repository: `helm template` in a sandbox.

Off unless the operator sets ``GITOPS_BOT_HELM=1`` and a ``helm`` binary is on PATH. The
chart, its vendored ``charts/`` and the value files must all be in the repository; the
child gets no credentials, empty Helm homes, no plugins, a kubeconfig that does not exist
and proxies that lead nowhere, so a chart can neither reach a cluster nor the network.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.charts import ChartRelease, application_release, application_sources, normalise
from bot.core.manifests import load_manifest
from bot.core.rendered import read_bounded
from bot.core.workspace import Workspace
from bot.errors import GitOpsBotError
from bot.plan.deployers import Target
from bot.plan.kustomize_runner import RenderFailed, minimal_environment, run_limited
from bot.plan.render import Rendered, RenderRefused, materialise

HELM_SWITCH = "GITOPS_BOT_HELM"
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024
HELM_NOT_FOUND = f"helm not found on PATH ({HELM_SWITCH} is on, but there is no helm binary to render with)"
# A port nothing listens on: any HTTP(S) request helm tries goes through this "proxy" and fails.
NO_NETWORK_PROXY = "http://127.0.0.1:9"


class HelmNotFound(GitOpsBotError):
    """Helm rendering is on but no ``helm`` binary is on PATH."""


@dataclass(frozen=True)
class HelmSource:
    """What one Application asks Helm for: a chart directory, a release, value files and inline values."""

    chart: str  # repository-relative chart directory
    release: str
    namespace: str
    value_files: tuple[str, ...]  # repository-relative, in order
    inline_values: str  # spec.source.helm.values / valuesObject as YAML, "" when none
    application: str  # "argocd/web (apps/web.yaml)", for messages


@dataclass(frozen=True)
class HelmInput:
    """Everything one `helm template` reads: the source and the bytes of each file."""

    source: HelmSource
    files: dict[str, bytes]


class HelmRunner:
    """Finds ``helm`` (only when enabled) and runs ``helm template`` with safe flags and a time limit."""

    def __init__(
        self,
        enabled: bool = False,
        search_path: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        self.enabled = enabled
        self.search_path = search_path if search_path is not None else os.environ.get("PATH", os.defpath)
        self.timeout = timeout
        self.max_output_bytes = max_output_bytes

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> HelmRunner:
        """``GITOPS_BOT_HELM=1`` (or true/yes/on) turns rendering on; the binary comes from ``PATH``."""
        switch = environ.get(HELM_SWITCH, "").strip().lower()
        return cls(enabled=switch in ("1", "true", "yes", "on"), search_path=environ.get("PATH", os.defpath))

    def binary(self) -> str | None:
        return shutil.which("helm", path=self.search_path)

    def render(self, prepared: HelmInput) -> Rendered:
        """The objects of the chart, as ``helm template`` renders them. Raises on every failure."""
        out = self.template(prepared)
        label = posixpath.join(prepared.source.chart, "(helm template)")
        result = load_manifest(label, out)
        notes = [f"{f.file}:{f.line}: {f.message}" for f in result.findings]
        return Rendered([r for r in result.resources if not r.is_patch], notes)

    def template(self, prepared: HelmInput) -> bytes:
        """The YAML stream ``helm template`` writes (with its ``# Source:`` comments). Raises on every failure."""
        binary = self.binary()
        if binary is None:
            raise HelmNotFound(HELM_NOT_FOUND)
        source = prepared.source
        with tempfile.TemporaryDirectory(prefix="gitops-bot-helm-") as tmp:
            sandbox = Path(tmp)
            repo, home = materialise(sandbox, prepared.files)
            values = [str(repo / f) for f in source.value_files]
            if source.inline_values:
                inline = home / "inline-values.yaml"
                inline.write_text(source.inline_values)
                values.append(str(inline))
            command = [
                binary, "template", source.release, str(repo / source.chart),
                "--namespace", source.namespace, "--no-hooks",
                *[arg for value_file in values for arg in ("--values", value_file)],
            ]  # fmt: skip
            return self._run(command, home, sandbox)

    def _run(self, command: list[str], home: Path, sandbox: Path) -> bytes:
        code, out, err = run_limited(command, cwd=home, env=helm_environment(self.search_path, home),
                                     timeout=self.timeout, max_output_bytes=self.max_output_bytes, what="helm template")
        if code != 0:
            lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
            message = lines[-1] if lines else f"helm template failed (exit status {code})"
            for root in (str(sandbox.resolve()) + "/repo/", str(sandbox) + "/repo/"):
                message = message.replace(root, "")
            raise RenderFailed(message[:500])
        return out


def helm_environment(search_path: str, home: Path) -> dict[str, str]:
    """The child's whole environment: PATH, throwaway homes for everything Helm reads or writes, no network."""
    env = minimal_environment(search_path, home)
    env.update(
        {
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
            "HELM_PLUGINS": str(home / "no-plugins"),
            "HELM_NO_PLUGINS": "1",
            "HELM_REGISTRY_CONFIG": str(home / "config" / "registry" / "config.json"),
            "HELM_REPOSITORY_CONFIG": str(home / "config" / "repositories.yaml"),
            "HELM_REPOSITORY_CACHE": str(home / "cache" / "repository"),
            "KUBECONFIG": str(home / "no-kubeconfig"),
            "HTTP_PROXY": NO_NETWORK_PROXY,
            "HTTPS_PROXY": NO_NETWORK_PROXY,
            "http_proxy": NO_NETWORK_PROXY,
            "https_proxy": NO_NETWORK_PROXY,
            "NO_PROXY": "",
            "no_proxy": "",
        }
    )
    return env


def helm_source(ws: Workspace, chart: str, targets: Sequence[Target]) -> HelmSource | None:
    """The Helm settings of the first Application that deploys ``chart`` on this side (None: none does).

    Raises `RenderRefused` for what would leave the repository: remote or absolute value
    files, ``$ref`` value files of multi-source Applications, parameters and file parameters
    (the core's reading of an Application, `bot.core.charts`, shared with the verdict).
    """
    for target in targets:
        if target.directory != chart or target.deployer.kind != "Application":
            continue
        data = ws.read(target.deployer.file)
        for resource in load_manifest(target.deployer.file, data or b"").resources:
            obj = resource.obj
            if obj.get("kind") != "Application" or resource.name != target.deployer.name:
                continue
            spec = obj.get("spec")
            for source in application_sources(spec if isinstance(spec, dict) else {}):
                if normalise(source.get("path")) == chart:
                    return helm_source_of(application_release(chart, obj, source, target.deployer.file))
    return None


def helm_source_of(release: ChartRelease) -> HelmSource:
    """The plan's view of a release the core read; raises `RenderRefused` with the core's reason."""
    if release.refusal:
        raise RenderRefused(release.refusal)
    where = release.deployer.removeprefix("Argo CD Application ")
    return HelmSource(release.chart, release.release, release.namespace, release.value_files, release.inline_values, where)


def prepare_helm(ws: Workspace, source: HelmSource) -> HelmInput:
    """The chart's files and the value files, read through the workspace. Raises `RenderRefused`."""
    prefix = f"{source.chart}/" if source.chart else ""
    paths = sorted(p for p in ws.paths if p.startswith(prefix))
    if f"{prefix}Chart.yaml" not in paths:
        raise RenderRefused(f"{source.chart or '.'}: no Chart.yaml, so it is not a chart Helm can render")
    for value_file in source.value_files:
        if value_file not in ws.paths:
            raise RenderRefused(f"Application {source.application}: value file {value_file} is not in the repository")
        if value_file not in paths:
            paths.append(value_file)
    files = read_bounded(ws, paths, "the chart")
    if isinstance(files, str):
        raise RenderRefused(files)
    return HelmInput(source, files)
