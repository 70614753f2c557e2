"""kubeconform v0.6.7 with local ``$ref`` schemas: parent-only errors become field findings at the field's line.

The recordings in fixtures/kubeconform/v0.6.7-local-refs.*.json follow kubeconform v0.6.7's
pkg/validator (one ``validationErrors`` entry per top-level cause of the jsonschema v5 error,
``msg`` = that error's ``Error()``, which names its first leaf) for fixtures/kubeconform/refs-repo
validated with ``-schema-location`` pointing at a local kubernetes-json-schema tree whose kind
schemas reach ``_definitions.json`` through ``$ref``. No Go toolchain is available here to record
them from a build, so they were derived from that source; they cover type, required, enum and
unknown-field errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.backends.kubeconform import match_results, parse_output, readable_errors, result_findings
from bot.core.manifests import load_manifest

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "kubeconform"
FILE = "apps/workloads.yaml"


def findings(mode: str) -> list[tuple[int, str, str, str]]:
    resources = load_manifest(FILE, (ROOT / "refs-repo" / FILE).read_bytes()).resources
    results = parse_output((ROOT / f"v0.6.7-local-refs.{mode}.json").read_bytes())
    out = []
    for resource, result in match_results(resources, results):
        out += [
            (f.line, f.rule, f.path, f.message)
            for f in result_findings(resource, result, strict=mode == "strict")
        ]
    return sorted(out)


ENUM = 'spec.type: value must be one of "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'


def test_default_schemas_errors_land_on_the_field_named_in_the_message() -> None:
    assert findings("default") == [
        (8, "schema/type", "spec.replicas", "spec.replicas: expected integer or null, but got string"),
        (27, "schema/required", "spec.containers[0]", 'spec.containers[0]: missing required field "name"'),
        (34, "schema/enum", "spec.type", ENUM),
    ]


def test_strict_a_parent_the_message_does_not_name_stays_on_its_line_in_words() -> None:
    assert findings("strict") == [
        (5, "schema/unknown-field", "metadata.lables", "metadata.lables: unknown field"),
        (
            7,
            "schema/invalid",
            "spec",
            "spec: does not match the schema of DeploymentSpec (kubeconform names no field below this one)",
        ),
        (27, "schema/required", "spec.containers[0]", 'spec.containers[0]: missing required field "name"'),
        (34, "schema/enum", "spec.type", ENUM),
    ]


def test_no_message_ever_quotes_a_schema_url() -> None:
    for mode in ("default", "strict"):
        assert not [m for *_, m in findings(mode) if "file://" in m or "doesn't validate" in m]


@pytest.mark.parametrize(
    ("errors", "msg", "expected"),
    [
        # already a leaf (standalone schemas): kept as it is
        (
            [("/spec/replicas", "expected integer, but got string")],
            "",
            [("/spec/replicas", "expected integer, but got string")],
        ),
        # an empty wrapper (several errors under one field) with the leaf in msg
        (
            [("/spec", "")],
            "jsonschema: '/spec/ports/0/port' does not validate with file:///s/service-v1.json#/properties/spec/properties/ports/items/properties/port/type: expected integer, but got string",
            [("/spec/ports/0/port", "expected integer, but got string")],
        ),
        # the leaf is under another parent: this one keeps its line, in words
        (
            [("/metadata", "")],
            "jsonschema: '/spec/x' does not validate with u#/a: m",
            [("/metadata", "does not match its schema (kubeconform names no field below this one)")],
        ),
    ],
)
def test_readable_errors(errors, msg, expected) -> None:  # noqa: ANN001
    assert readable_errors(errors, msg) == expected
