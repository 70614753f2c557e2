"""Schema catalogs in the core: kubeconform's template semantics, lookup order, findings, and who may choose locations.

The core never does I/O, so these tests hand it a `SchemaSource` fake that serves the
fixture catalog (fixtures/catalog/schemas, hand-made subsets of the Flux, Argo CD and
cert-manager CRD schemas in datreeio/CRDs-catalog layout) from memory and records every fetch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import load_repo_config
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Severity
from bot.core.schemas import catalog as catalog_module
from bot.core.schemas.catalog import (
    KUBECONFORM_DEFAULT_TEMPLATE,
    RULE_CATALOG_UNAVAILABLE,
    CatalogAccess,
    SchemaFetchError,
    check_location,
    expand,
    full_template,
    is_safe_identity,
    select_locations,
)
from bot.core.workspace import Workspace
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "fixtures" / "catalog" / "schemas"
REPO = ROOT / "fixtures" / "catalog" / "repo"
DATREE = "catalog/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"


class FakeSource:
    """Serves ``files`` (location -> bytes); ``errors`` (location prefix -> reason) raise; records fetches."""

    def __init__(self, files: dict[str, bytes] | None = None, errors: dict[str, str] | None = None) -> None:
        self.files = dict(files or {})
        self.errors = dict(errors or {})
        self.fetched: list[str] = []

    def fetch(self, location: str) -> bytes | None:
        self.fetched.append(location)
        for prefix, reason in self.errors.items():
            if location.startswith(prefix):
                raise SchemaFetchError(reason)
        return self.files.get(location)


def fixture_catalog(prefix: str = "catalog") -> dict[str, bytes]:
    return {f"{prefix}/{p.relative_to(CATALOG).as_posix()}": p.read_bytes() for p in CATALOG.rglob("*.json")}


def schema_findings(report) -> list[tuple]:
    return sorted((f.file, f.line, f.rule, f.severity.name) for f in report.findings if f.source == "schema")


# -- kubeconform's schemaPath, case by case ---------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "kind", "api_version", "k8s", "strict", "expected"),
    [
        # pkg/registry/registry_test.go's table
        ("https://kubernetesjsonschema.dev/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "Deployment", "apps/v1", "1.16.0", True, "https://kubernetesjsonschema.dev/v1.16.0-standalone-strict/deployment-apps-v1.json"),
        ("https://kubernetesjsonschema.dev/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "Service", "v1", "1.18.0", False, "https://kubernetesjsonschema.dev/v1.18.0-standalone/service-v1.json"),
        ("https://kubernetesjsonschema.dev/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
         "Service", "v1", "master", False, "https://kubernetesjsonschema.dev/master-standalone/service-v1.json"),
        # datreeio/CRDs-catalog layout: group and version keep their case, the kind is lower-cased
        (DATREE, "Certificate", "cert-manager.io/v1", "1.31.0", False, "catalog/cert-manager.io/certificate_v1.json"),
        (DATREE, "HelmRelease", "helm.toolkit.fluxcd.io/v2beta2", "1.31.0", False,
         "catalog/helm.toolkit.fluxcd.io/helmrelease_v2beta2.json"),
        # the core group: Group is "v1" (kubeconform splits on "/" and takes the first part)
        ("{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}", "ConfigMap", "v1", "1.31.0", False, "v1/configmap_v1"),
        # KindSuffix keeps only the first label of a dotted group, lower-cased
        ("{{.ResourceKind}}{{.KindSuffix}}", "Certificate", "Cert-Manager.io/V1", "1.31.0", False, "certificate-cert-manager-v1"),
        # Go's trim markers
        ("a/ {{- .Group -}} /b", "Application", "argoproj.io/v1alpha1", "1.31.0", False, "a/argoproj.io/b"),
    ],
)
def test_expand_follows_kubeconform(template, kind, api_version, k8s, strict, expected) -> None:
    assert expand(template, kind, api_version, k8s, strict) == expected


def test_default_and_mirror_locations_expand_like_kubeconform_new() -> None:
    assert full_template("default") == KUBECONFORM_DEFAULT_TEMPLATE
    assert full_template("https://mirror.example/schemas") == (
        "https://mirror.example/schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
        "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    assert expand(full_template("/srv/k8s"), "Deployment", "apps/v1", "1.31.0", True) == (
        "/srv/k8s/v1.31.0-standalone-strict/deployment-apps-v1.json"
    )
    assert full_template(DATREE) == DATREE


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("x/{{.Kind}}.json", "unknown field .Kind"),
        ("x/{{ .Group | lower }}.json", "unsupported template action"),
        ("x/{{ if .Group }}y{{ end }}.json", "unsupported template action"),
        ("x/{{.Group.json", "unbalanced"),
        ("  ", "empty"),
    ],
)
def test_broken_templates_are_config_errors(location: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        check_location(location)


@pytest.mark.parametrize(
    ("api_version", "kind", "safe"),
    [
        ("cert-manager.io/v1", "Certificate", True),
        ("v1", "ConfigMap", True),
        ("cert-manager.io/v1", "../../etc/passwd", False),
        ("../../etc/v1", "Certificate", False),
        ("cert-manager.io/v1?x=", "Certificate", False),
        ("example.com/v1", "Kind%2F..", False),
        ("Example.COM/v1", "Certificate", False),
    ],
)
def test_only_plain_names_reach_a_location(api_version: str, kind: str, safe: bool) -> None:
    assert is_safe_identity(api_version, kind) is safe


# -- through evaluate ---------------------------------------------------------------------------------


def evaluate_repo(source: FakeSource, locations: tuple[str, ...], files: dict[str, bytes] | None = None, **kw):
    workspace = Workspace.from_dict(files or {p.name: p.read_bytes() for p in REPO.glob("*.yaml")})
    access = CatalogAccess(source, locations, kw.pop("repository_may_add", True))
    return evaluate(workspace, options=EvalOptions(policies=False, schema_catalog=access, **kw))


def test_catalog_schemas_judge_custom_resources_at_their_lines() -> None:
    source = FakeSource(fixture_catalog())
    report = evaluate_repo(source, (DATREE,))

    assert schema_findings(report) == [
        ("argocd.yaml", 6, "schema/required", "ERROR"),
        ("argocd.yaml", 16, "schema/unknown-field", "WARNING"),
        ("certificate.yaml", 14, "schema/range", "ERROR"),  # draft-04 boolean exclusiveMinimum, as kubeconform reads it
        ("certificate.yaml", 17, "schema/unknown-kind", "NOTICE"),  # Issuer: not in the catalog
    ]
    messages = {f.line: f.message for f in report.findings if f.file == "argocd.yaml"}
    assert messages[6] == 'spec: missing required field "project"'
    assert '(did you mean "selfHeal"?)' in messages[16]
    # built-in kinds never reach a location; each custom kind is fetched once
    assert sorted(source.fetched) == [
        "catalog/argoproj.io/application_v1alpha1.json",
        "catalog/cert-manager.io/certificate_v1.json",
        "catalog/cert-manager.io/issuer_v1.json",
        "catalog/kustomize.toolkit.fluxcd.io/kustomization_v1.json",
    ]


def test_strict_makes_unknown_catalog_fields_errors() -> None:
    report = evaluate_repo(FakeSource(fixture_catalog()), (DATREE,), strict=True)
    [unknown] = [f for f in report.findings if f.rule == "schema/unknown-field"]
    assert (unknown.file, unknown.line, unknown.severity) == ("argocd.yaml", 16, Severity.ERROR)


def test_patches_are_checked_as_partial_objects() -> None:
    patch = (
        b"apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n"
        b"spec:\n  privateKey:\n    rotationPolicy: Sometimes\n"
    )
    files = {"base/kustomization.yaml": b"resources: []\npatches:\n  - path: cert-patch.yaml\n",
             "base/cert-patch.yaml": patch}
    report = evaluate_repo(FakeSource(fixture_catalog()), (DATREE,), files=files)
    # the patch lacks issuerRef and secretName (fine for a patch) but its enum value is still wrong
    assert schema_findings(report) == [("base/cert-patch.yaml", 7, "schema/enum", "ERROR")]


def test_first_location_with_the_schema_wins_and_not_found_moves_on() -> None:
    good = fixture_catalog("second")
    junk = {"first/cert-manager.io/certificate_v1.json": b"<html>not json</html>"}
    source = FakeSource({**junk, **good})
    first = DATREE.replace("catalog/", "first/")
    second = DATREE.replace("catalog/", "second/")
    report = evaluate_repo(source, (first, second))

    # kubeconform: an unparsable response moves on to the next location, which holds a good schema
    assert ("certificate.yaml", 14, "schema/range", "ERROR") in schema_findings(report)
    assert not [f for f in report.findings if f.rule == RULE_CATALOG_UNAVAILABLE]
    assert "first/argoproj.io/application_v1alpha1.json" in source.fetched  # 404 there, then second/
    assert "second/argoproj.io/application_v1alpha1.json" in source.fetched


def test_an_unusable_schema_with_no_alternative_is_reported_not_skipped() -> None:
    source = FakeSource({"catalog/cert-manager.io/certificate_v1.json": b'{"type": 12}'})
    report = evaluate_repo(source, (DATREE,))
    [finding] = [f for f in report.findings if f.rule == RULE_CATALOG_UNAVAILABLE]
    assert (finding.file, finding.line, finding.severity) == ("certificate.yaml", 2, Severity.ERROR)
    assert "catalog/cert-manager.io/certificate_v1.json holds no usable schema" in finding.message
    assert "this Certificate was not checked" in finding.message


def test_an_unreachable_location_is_an_error_naming_the_kind() -> None:
    source = FakeSource(fixture_catalog(), errors={"https://down.example/": "unreachable (Connection refused)"})
    down = "https://down.example/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    report = evaluate_repo(source, (down, DATREE))

    unavailable = sorted((f.file, f.line, f.resource.kind) for f in report.findings if f.rule == RULE_CATALOG_UNAVAILABLE)
    # kubeconform stops at a real failure: the later local catalog is not consulted for these kinds
    assert unavailable == [("argocd.yaml", 2, "Application"), ("certificate.yaml", 2, "Certificate"),
                           ("certificate.yaml", 17, "Issuer"), ("flux.yaml", 2, "Kustomization")]
    message = next(f.message for f in report.findings if f.file == "flux.yaml")
    assert message == (
        "no schema for kustomize.toolkit.fluxcd.io/v1 Kustomization: the schema location "
        "https://down.example/kustomize.toolkit.fluxcd.io/kustomization_v1.json could not be read: "
        "unreachable (Connection refused); this Kustomization was not checked"
    )
    assert report.exit_code() == 1
    assert not [f for f in source.fetched if f.startswith("catalog/")]


def test_crds_in_the_repository_win_over_the_catalog() -> None:
    crd = b"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
spec:
  group: cert-manager.io
  names: {kind: Certificate, plural: certificates}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""
    files = {"crd.yaml": crd, "certificate.yaml": (REPO / "certificate.yaml").read_bytes()}
    source = FakeSource(fixture_catalog())
    report = evaluate_repo(source, (DATREE,), files=files)

    assert "catalog/cert-manager.io/certificate_v1.json" not in source.fetched
    assert schema_findings(report) == [("certificate.yaml", 17, "schema/unknown-kind", "NOTICE")]


def test_default_location_is_the_embedded_schemas_and_never_fetches() -> None:
    files = {"cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 1\n"}
    source = FakeSource()
    report = evaluate_repo(source, ("default",), files=files)
    assert schema_findings(report) == [("cm.yaml", 6, "schema/type", "ERROR")]
    assert source.fetched == []


def test_hostile_kinds_never_reach_the_source() -> None:
    files = {"evil.yaml": b"apiVersion: example.com/v1\nkind: ../../../../etc/passwd\nmetadata:\n  name: x\n"}
    source = FakeSource()
    report = evaluate_repo(source, (DATREE,), files=files)
    assert source.fetched == []
    assert [f.rule for f in report.findings] == ["schema/unknown-kind"]


def test_fetches_per_evaluation_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_module, "MAX_FETCHES_PER_EVALUATION", 3)
    files = {
        f"k{i}.yaml": f"apiVersion: example.com/v1\nkind: Made{i}\nmetadata:\n  name: x\n".encode() for i in range(5)
    }
    source = FakeSource()
    report = evaluate_repo(source, (DATREE,), files=files)
    assert len(source.fetched) == 3
    capped = [f for f in report.findings if f.rule == RULE_CATALOG_UNAVAILABLE]
    assert len(capped) == 2 and "more than 3 distinct schema locations" in capped[0].message


# -- who chooses the locations ------------------------------------------------------------------------


def test_the_app_uses_its_operators_locations_when_the_repository_names_none() -> None:
    access = CatalogAccess(FakeSource(), ("https://schemas.example/{{.Group}}/{{.ResourceKind}}.json",), False)
    assert select_locations(access, None, ".gitops-bot.yaml") == (access.locations, [])


def test_the_app_refuses_repository_locations_its_operator_did_not_allow() -> None:
    allowed = "https://schemas.example/{{.Group}}/{{.ResourceKind}}.json"
    config = load_repo_config(
        f"kubernetesVersion: '1.31'\nschemaLocations:\n  - default\n  - '{allowed}'\n"
        "  - 'https://evil.example/{{.ResourceKind}}.json'\n".encode()
    )
    source = FakeSource(errors={"https://": "must not be fetched in this test"})
    locations, findings = select_locations(
        CatalogAccess(source, (allowed,), False), config.schema_locations, config.source, config.schema_location_lines
    )
    assert locations == ("default", allowed)
    [finding] = findings
    assert (finding.rule, finding.file, finding.line, finding.severity) == (
        "config/invalid", ".gitops-bot.yaml", 5, Severity.ERROR)
    assert "'https://evil.example/{{.ResourceKind}}.json' is not one of the schema locations" in finding.message
    assert source.fetched == []


def test_an_evil_repository_location_is_never_fetched_through_evaluate() -> None:
    config = b"schemaLocations:\n  - 'https://evil.example/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'\n"
    files = {".gitops-bot.yaml": config, "certificate.yaml": (REPO / "certificate.yaml").read_bytes()}
    source = FakeSource(fixture_catalog())
    report = evaluate_repo(source, (DATREE,), files=files, repository_may_add=False)
    assert source.fetched == []
    assert [(f.rule, f.file, f.line) for f in report.findings if f.source == "config"] == [
        ("config/invalid", ".gitops-bot.yaml", 2)]
    assert {f.rule for f in report.findings if f.source == "schema"} == {"schema/unknown-kind"}


def test_the_cli_appends_the_configs_locations_to_its_flags() -> None:
    access = CatalogAccess(FakeSource(), ("flag/{{.ResourceKind}}.json",), True)
    locations, findings = select_locations(access, ("config/{{.ResourceKind}}.json", "flag/{{.ResourceKind}}.json"), "c.yaml")
    assert (locations, findings) == (("flag/{{.ResourceKind}}.json", "config/{{.ResourceKind}}.json"), [])


def test_a_broken_repository_template_is_a_config_finding_at_its_line() -> None:
    config = load_repo_config(b"schemaLocations:\n  - 'x/{{.Kind}}.json'\n")
    locations, [finding] = select_locations(
        CatalogAccess(FakeSource()), config.schema_locations, config.source, config.schema_location_lines
    )
    assert locations == ()
    assert (finding.line, finding.rule) == (2, "config/invalid") and "unknown field .Kind" in finding.message


def test_locations_without_a_front_door_to_read_them_are_a_visible_error() -> None:
    workspace = Workspace.from_dict({".gitops-bot.yaml": b"schemaLocations: [default]\n",
                                     "certificate.yaml": (REPO / "certificate.yaml").read_bytes()})
    report = evaluate(workspace, options=EvalOptions(policies=False))
    [finding] = [f for f in report.findings if f.source == "config"]
    assert finding.severity == Severity.ERROR and "cannot read schema locations" in finding.message


def test_schema_locations_config_key_is_validated() -> None:
    assert load_repo_config(b"kubernetesVersion: '1.31'\n").schema_locations is None
    assert load_repo_config(b"schemaLocations: []\n").schema_locations == ()
    with pytest.raises(ConfigError, match="schemaLocations"):
        load_repo_config(b"schemaLocations: default\n")
