"""CRDs in the repository: their schemas derived at run time, custom resources checked against them."""

from __future__ import annotations

import pytest

from bot.core.findings import Severity
from bot.core.schemas import SchemaValidator
from bot.core.schemas.crd import to_json_schema
from bot.core.schemas.engine import ENGINES
from bot.core.schemas.validate import _compile_crd_schema

from .test_schemas import fixture_resources, make_resource, no_network  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("no_network")

E, W, N = "error", "warning", "notice"


def _summary(findings):
    return [(f.rule, f.severity.label, f.line, f.path, f.message) for f in findings]


def _validator(engine: str, *, strict: bool = False) -> SchemaValidator:
    validator = SchemaValidator("1.31", strict=strict, engine=engine)
    crds = fixture_resources("crds/widgets.example.com.yaml") + fixture_resources(
        "crds/gadgets.legacy.example.com.yaml"
    )
    assert validator.add_crds(crds) == []
    return validator


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("strict", [False, True])
def test_valid_custom_resource(engine, strict):
    """int-or-string, nullable, preserve-unknown-fields and embedded resources all accept what they should."""
    (widget,) = fixture_resources("resources/widget-valid.yaml")
    assert _validator(engine, strict=strict).validate(widget) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_invalid_custom_resource_not_strict(engine):
    (widget,) = fixture_resources("resources/widget-invalid.yaml")
    assert _summary(_validator(engine).validate(widget)) == [
        ("schema/type", E, 6, "spec.size", "spec.size: expected an integer or a string, got a list"),
        ("schema/range", E, 7, "spec.replicas", "spec.replicas: 0 is less than the minimum 1"),
        ("schema/enum", E, 8, "spec.mode", 'spec.mode: "medium" is not one of "fast", "slow"'),
        (
            "schema/pattern",
            E,
            9,
            "spec.owner",
            'spec.owner: "Not_Valid" does not match the pattern "^[a-z][a-z0-9-]*$"',
        ),
        (
            "schema/unknown-field",
            W,
            10,
            "spec.colour",
            "spec.colour: unknown field, would be pruned by the API server",
        ),
        ("schema/required", E, 12, "spec.ports[0]", 'spec.ports[0]: missing required field "port"'),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_field_in_custom_resource_is_an_error_when_strict(engine):
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  size: 1\n  replica: 2\n"
    assert _summary(_validator(engine, strict=True).validate(make_resource(text))) == [
        (
            "schema/unknown-field",
            E,
            6,
            "spec.replica",
            'spec.replica: unknown field (did you mean "replicas"?)',
        ),
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("size: 3", []),
        ('size: "50%"', []),
        (
            "size: 1.5",
            [
                (
                    "schema/type",
                    E,
                    5,
                    "spec.size",
                    "spec.size: expected an integer or a string, got the number 1.5",
                )
            ],
        ),
        ("size: 1\n  config: {any: {thing: [1, true]}}", []),
        (
            "size: 1\n  replicas: 3000000000",
            [
                (
                    "schema/range",
                    E,
                    6,
                    "spec.replicas",
                    "spec.replicas: 3000000000 is greater than the maximum 2147483647",
                )
            ],
        ),
        ("replicas: 2", [("schema/required", E, 4, "spec", 'spec: missing required field "size"')]),
    ],
)
def test_custom_resource_fields(engine, spec, expected):
    text = f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec:\n  {spec}\n"
    assert _summary(_validator(engine).validate(make_resource(text))) == expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            'replicas: "two"',
            [
                (
                    "schema/type",
                    E,
                    5,
                    "spec.replicas",
                    'spec.replicas: expected an integer, got the string "two"',
                )
            ],
        ),
        ("replicas: 3", []),
        ("replicas: null\n  ports:\n    - $patch: delete\n      protocol: UDP", []),
    ],
)
def test_custom_resource_patch_is_partial(engine, spec, expected):
    text = f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec:\n  {spec}\n"
    assert _summary(_validator(engine).validate(make_resource(text, is_patch=True))) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_v1beta1_crd_with_shared_validation(engine):
    text = (
        "apiVersion: legacy.example.com/v1beta1\nkind: Gadget\nmetadata: {name: g}\nspec:\n  color: green\n"
    )
    assert _summary(_validator(engine).validate(make_resource(text))) == [
        ("schema/enum", E, 5, "spec.color", 'spec.color: "green" is not one of "red", "blue"'),
    ]


def test_version_not_served_is_a_blocking_error_naming_the_served_versions():
    """The API server rejects a version its CRD does not serve (issue 10): an error, not a notice."""
    text = "apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata: {name: w}\n"
    assert _summary(_validator("jsonschema-rs").validate(make_resource(text))) == [
        (
            "schema/api-version",
            E,
            1,
            "apiVersion",
            "example.com/v1alpha1 Widget is not served: CustomResourceDefinition widgets.example.com serves "
            "example.com/v1; the API server rejects it",
        ),
    ]


def test_custom_resource_without_its_crd_is_an_unknown_kind():
    (widget,) = fixture_resources("resources/widget-valid.yaml")
    (finding,) = SchemaValidator(unknown_kinds="error").validate(widget)
    assert (finding.rule, finding.severity, finding.line) == ("schema/unknown-kind", Severity.ERROR, 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_broken_crds_become_findings(engine):
    findings = SchemaValidator(engine=engine).add_crds(fixture_resources("crds/broken.yaml"))
    assert [(f.rule, f.severity.label, f.file, f.line, f.path) for f in findings] == [
        ("schema/invalid-crd", E, "crds/broken.yaml", 14, "spec.versions[0].schema.openAPIV3Schema"),
        ("schema/invalid-crd", E, "crds/broken.yaml", 19, "spec.versions[1]"),
        ("schema/invalid-crd", E, "crds/broken.yaml", 28, "spec.names"),
    ]
    assert findings[0].message.startswith(
        "CustomResourceDefinition brokens.example.com: the schema of version v1 is not a valid schema: "
    )
    assert "objekt" in findings[0].message
    assert findings[1].message == (
        "CustomResourceDefinition brokens.example.com: version v2 has no "
        '"schema.openAPIV3Schema" (required in apiextensions.k8s.io/v1)'
    )
    assert findings[2].message == 'CustomResourceDefinition nameless.example.com: missing "spec.names.kind"'


@pytest.mark.parametrize("engine", ENGINES)
def test_remote_refs_are_refused_without_network(engine):
    crd = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: remotes.example.com}
spec:
  group: example.com
  names: {kind: Remote, plural: remotes}
  versions:
    - name: v1
      served: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {$ref: "https://example.com/schema.json"}
"""
    validator = SchemaValidator(engine=engine)
    assert _summary(validator.add_crds([make_resource(crd)])) == [
        (
            "schema/invalid-crd",
            E,
            11,
            "spec.versions[0].schema.openAPIV3Schema",
            "CustomResourceDefinition remotes.example.com: the schema of version v1 uses $ref, which "
            "CustomResourceDefinitions do not allow",
        ),
    ]


def test_non_crd_resources_are_ignored_by_add_crds():
    resources = [
        make_resource("apiVersion: v1\nkind: ConfigMap\n"),
        make_resource("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: 3\n"),
    ]
    findings = SchemaValidator().add_crds(resources)
    assert _summary(findings) == [
        (
            "schema/invalid-crd",
            E,
            3,
            "spec",
            "CustomResourceDefinition (unnamed): spec must be a mapping with group, names and versions",
        )
    ]


def test_derived_schema_shape():
    schema = to_json_schema(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "port": {
                            "x-kubernetes-int-or-string": True,
                            "anyOf": [{"type": "integer"}, {"type": "string"}],
                        },
                        "note": {"type": "string", "nullable": True, "enum": ["a"]},
                        "bag": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                            "properties": {"x": {}},
                        },
                        "low": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
                    },
                },
            },
        }
    )
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["port"] == {"x-kubernetes-int-or-string": True, "type": ["integer", "string"]}
    assert spec["properties"]["note"]["type"] == ["string", "null"]
    assert spec["properties"]["note"]["enum"] == ["a", None]
    assert "additionalProperties" not in spec["properties"]["bag"]
    assert spec["properties"]["low"] == {"type": "number", "exclusiveMinimum": 0}
    assert set(schema["properties"]) == {"spec", "apiVersion", "kind", "metadata"}


def test_identical_crds_compile_once_per_process():
    _validator("jsonschema-rs")
    before = _compile_crd_schema.cache_info()
    _validator("jsonschema-rs")
    after = _compile_crd_schema.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits
