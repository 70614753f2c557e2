"""A small hand-built report that every reporter test renders (golden outputs are written against it)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from bot.core.findings import Finding, ResourceRef, Severity, Source, Waiver
from bot.core.report import Report

# The official SARIF 2.1.0 schema, vendored (see fixtures/schemas-sarif/README.md).
SARIF_SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / "fixtures" / "schemas-sarif" / "sarif-2.1.0-rtm.5.json"
)


def report_schema() -> dict:
    """The published JSON Schema of `--format json`, read the way an installed package would."""
    return json.loads(resources.files("bot").joinpath("schemas/report-v1.json").read_text(encoding="utf-8"))


def sarif_schema() -> dict:
    return json.loads(SARIF_SCHEMA_PATH.read_text(encoding="utf-8"))


WEB = ResourceRef("apps/v1", "Deployment", "prod", "web")
DB = ResourceRef("v1", "Secret", "prod", "db")


def sample_report() -> Report:
    """3 blocking findings (policy, schema, parse) in 2 files, a warning, a notice, one waived error."""
    return Report(
        findings=[
            Finding(
                "image-tag",
                Severity.ERROR,
                'container "web" uses image "nginx:latest"; pin a version tag or digest',
                file="apps/web.yaml",
                line=12,
                column=7,
                source=Source.POLICY,
                resource=WEB,
                path="spec.template.spec.containers[0].image",
                remediation="Use an immutable tag such as nginx:1.27.1 or a sha256 digest.",
            ),
            Finding(
                "schema/type",
                Severity.ERROR,
                'spec.replicas: expected integer, got string "three"',
                file="apps/web.yaml",
                line=8,
                column=13,
                source=Source.SCHEMA,
                resource=WEB,
            ),
            Finding(
                "run-as-non-root",
                Severity.WARNING,
                'container "web" may run as root',
                file="apps/web.yaml",
                line=20,
                column=9,
                resource=WEB,
            ),
            Finding(
                "parse/yaml-syntax",
                Severity.ERROR,
                "mapping values are not allowed here",
                file="apps/broken.yaml",
                line=3,
                column=5,
                source=Source.PARSE,
            ),
            Finding(
                "missing-namespace",
                Severity.NOTICE,
                'ConfigMap "settings" has no namespace',
                file="apps/broken.yaml",
                line=10,
                resource=ResourceRef("v1", "ConfigMap", "", "settings"),
            ),
            Finding(
                "secret-in-env",
                Severity.ERROR,
                "env DB_PASSWORD=hunter2 is a literal value",
                file="apps/db.yaml",
                line=4,
                column=3,
                resource=DB,
                waived=Waiver("annotation", "legacy app, tracked in OPS-12", by="alice"),
            ),
        ],
        files_checked=7,
        resources_checked=12,
        kubernetes_version="1.31",
        notices=[
            "skipped charts/web/templates/deployment.yaml: Helm chart template (Go template, not YAML): rendered by Helm",
            "skipped charts/web/templates/service.yaml: Helm chart template (Go template, not YAML): rendered by Helm",
            "skipped base/kustomization.yaml: kustomization: rendered, not validated as a manifest",
            "policy engine regorus unavailable; fell back to opa",
        ],
    )


def clean_report() -> Report:
    return Report(files_checked=3, resources_checked=5, kubernetes_version="1.31")
