"""Loading manifests: exact positions, multi-document streams, Lists, and hostile input as findings."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import yaml

from bot.core.findings import Severity, Source
from bot.core.manifests import (
    NOT_KUBERNETES,
    LoadLimits,
    LoadResult,
    load_manifest,
    load_workspace,
)
from bot.core.resource import parse_path
from bot.core.workspace import Workspace
from bot.core.yamlpos import load_yaml

FIXTURES = Path(__file__).parents[2] / "fixtures"
HOSTILE = FIXTURES / "hostile"
MANIFESTS = FIXTURES / "manifests"


def _hostile_recipes():
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_hostile = _hostile_recipes()


def load_fixture(path: Path, **kwargs) -> LoadResult:
    return load_manifest(path.name, path.read_bytes(), **kwargs)


def rules(result: LoadResult) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in result.findings]


# --- positions --------------------------------------------------------------------------------------


def test_multi_document_file_gives_one_resource_per_object_with_document_index_and_line():
    result = load_fixture(MANIFESTS / "multi-doc.yaml")

    assert result.findings == []
    assert [(r.kind, r.doc_index, r.line) for r in result.resources] == [
        ("Namespace", 0, 2),  # line 1 is a comment: the document starts at its content
        ("Deployment", 1, 7),
        ("Service", 3, 31),  # document 2 is empty and skipped, but still counted
    ]


@pytest.mark.parametrize(
    ("path", "line", "column"),
    [
        ("spec.template.spec.containers[1].image", 26, 11),
        ("spec.template.spec.containers[1]", 25, 11),
        ("spec.template.spec.containers[0].image", 24, 11),
        ("spec.template.spec.containers[1].ports[0].containerPort", 28, 15),
        ("spec.replicas", 13, 3),
        ("metadata.namespace", 11, 3),
        ("", 7, 1),
    ],
)
def test_field_positions_in_a_multi_document_file_are_exact(path, line, column):
    deployment = load_fixture(MANIFESTS / "multi-doc.yaml").resources[1]

    assert deployment.position(parse_path(path)) == (line, column)


def test_flow_style_fields_have_their_own_columns():
    service = load_fixture(MANIFESTS / "multi-doc.yaml").resources[2]

    assert service.position(("metadata", "namespace")) == (33, 23)
    assert service.position(("spec", "ports", 0, "targetPort")) == (35, 22)
    assert service.line_of(("spec", "ports", 0, "nonexistent")) == 35  # nearest existing ancestor


def test_crlf_line_endings_and_leading_comments_keep_line_numbers():
    data = b"# header\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: x\r\n"

    (resource,) = load_manifest("cm.yaml", data).resources

    assert resource.line == 3
    assert resource.line_of(("metadata", "name")) == 6


# --- values follow SafeLoader ------------------------------------------------------------------------


def test_scalars_resolve_like_yaml_safe_load():
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: scalars}\nvalues:\n"
        "  int: 42\n  hex: 0x1F\n  octal: 017\n  sexagesimal: 1:30\n  underscore: 1_000\n"
        "  float: 1.5\n  exp: 6.8523015e+5\n  neg_inf: -.Inf\n  yes: yes\n  off: Off\n  tilde: ~\n"
        "  empty:\n  quoted: '123'\n  quoted_bool: \"true\"\n  explicit: !!str 12\n  version: 1.10\n"
    )
    value = load_yaml(text).documents[0].value["values"]
    expected = yaml.safe_load(text)["values"]
    expected["yes"], expected["off"] = expected.pop(True), expected.pop(False)  # keys stay strings

    assert value == expected
    assert value["sexagesimal"] == 90 and value["octal"] == 15 and value["version"] == 1.1


def test_nan_is_a_float_nan():
    assert math.isnan(load_yaml("x: .nan\n").documents[0].value["x"])


def test_timestamps_stay_strings_as_kubernetes_reads_them():
    assert load_yaml("at: 2001-12-14t21:59:43.10-05:00\n").documents[0].value == {"at": "2001-12-14t21:59:43.10-05:00"}


def test_merge_keys_merge_with_explicit_keys_winning_and_positions_pointing_at_the_source():
    text = "defaults: &d {cpu: 100m, memory: 64Mi}\nlimits:\n  <<: *d\n  memory: 128Mi\n"
    doc = load_yaml(text).documents[0]

    assert doc.value["limits"] == {"cpu": "100m", "memory": "128Mi"}
    assert doc.positions[("limits", "memory")] == (4, 3)
    assert doc.positions[("limits", "cpu")] == (1, 15)


def test_a_list_of_merge_sources_gives_earlier_sources_priority():
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"

    assert load_yaml(text).documents[0].value["c"] == {"x": 1, "y": 2}


def test_non_string_keys_become_their_source_text():
    assert load_yaml("data:\n  80: http\n  true: yes\n").documents[0].value == {"data": {"80": "http", "true": True}}


# --- kind: List ----------------------------------------------------------------------------------------


def test_kind_list_expands_into_one_resource_per_item_with_rebased_positions():
    result = load_fixture(MANIFESTS / "list.yaml")

    assert result.findings == []
    assert [(r.kind, r.name, r.line, r.doc_index) for r in result.resources] == [
        ("ConfigMap", "first", 4, 0),
        ("Secret", "second", 10, 0),
    ]
    secret = result.resources[1]
    assert secret.positions[()] == (10, 5)
    assert secret.position(("stringData", "token")) == (15, 7)
    assert ("items", 1, "kind") not in secret.positions


def test_typed_list_kinds_expand_but_crd_kinds_ending_in_list_do_not():
    typed = b"apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: a}\n"
    crd = b"apiVersion: x.io/v1\nkind: AllowList\nmetadata: {name: a}\nspec: {}\nitems: []\n"

    assert [(r.kind, r.line) for r in load_manifest("d.yaml", typed).resources] == [("Deployment", 4)]
    assert [r.kind for r in load_manifest("c.yaml", crd).resources] == ["AllowList"]


def test_a_list_item_that_is_not_an_object_is_a_finding_at_its_line():
    data = b"apiVersion: v1\nkind: List\nitems:\n  - just a string\n  - apiVersion: v1\n    kind: ConfigMap\n"

    result = load_manifest("list.yaml", data)

    assert rules(result) == [("parse/not-an-object", 4)]
    assert "Item 0 of the list is a single value" in result.findings[0].message
    assert [r.line for r in result.resources] == [5]


# --- not Kubernetes, half Kubernetes ---------------------------------------------------------------------


def test_yaml_without_apiversion_and_kind_is_skipped_not_reported():
    result = load_manifest("config/app.yaml", b"server:\n  port: 8080\n")

    assert result.findings == [] and result.resources == []
    assert result.skipped == [("config/app.yaml", NOT_KUBERNETES)]


@pytest.mark.parametrize(
    ("data", "line", "missing"),
    [
        (b"kind: ConfigMap\nmetadata:\n  name: a\n", 1, "apiVersion"),
        (b"# c\napiVersion: v1\nmetadata:\n  name: a\n", 2, "kind"),
    ],
)
def test_only_one_of_apiversion_and_kind_is_an_error_at_the_document(data, line, missing):
    result = load_manifest("a.yaml", data)

    assert rules(result) == [("parse/missing-apiversion-or-kind", line)]
    assert result.findings[0].severity is Severity.ERROR
    assert f"has no {missing}" in result.findings[0].message
    assert result.resources == []


def test_a_top_level_list_of_objects_is_not_an_object():
    data = b"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"

    result = load_manifest("a.yaml", data)

    assert rules(result) == [("parse/not-an-object", 1)]
    assert result.findings[0].message.startswith("Document 1 is a list, not a Kubernetes object")


def test_a_scalar_document_in_a_manifest_file_is_not_an_object():
    data = b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\njust text\n"

    result = load_manifest("a.yaml", data)

    assert rules(result) == [("parse/not-an-object", 5)]
    assert len(result.resources) == 1


def test_a_plain_list_file_that_is_not_a_manifest_is_skipped():
    result = load_manifest("hosts.yaml", b"- alpha\n- beta\n")

    assert result.findings == []
    assert result.skipped == [("hosts.yaml", "not a mapping: not a Kubernetes object")]


def test_json_6902_patches_are_skipped_as_such():
    data = b"- op: replace\n  path: /spec/replicas\n  value: 3\n"

    assert load_manifest("ops.yaml", data).skipped == [("ops.yaml", "JSON 6902 patch")]


def test_json_manifests_load_with_positions():
    data = b'{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {"name": "j"}\n}\n'

    (resource,) = load_manifest("cm.json", data).resources

    assert resource.name == "j"
    assert resource.position(("metadata", "name")) == (4, 16)


def test_json_that_yaml_cannot_read_falls_back_to_the_json_parser():
    data = b'{"apiVersion": "v1",\t"kind": "ConfigMap", "metadata": {"name": "tab\\/slash"}}'

    result = load_manifest("cm.json", data)

    assert result.findings == []
    assert [r.name for r in result.resources] == ["tab/slash"]


def test_broken_json_reports_the_json_error_position():
    result = load_manifest("cm.json", b'{"apiVersion": "v1",\n "kind": }\n')

    assert rules(result) == [("parse/yaml-syntax", 2)]
    assert result.findings[0].column == 10


def test_is_patch_marks_every_resource_of_the_file():
    result = load_fixture(MANIFESTS / "multi-doc.yaml", is_patch=True)

    assert [r.is_patch for r in result.resources] == [True, True, True]


# --- hostile input ------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_billion_laughs_fails_fast_as_alias_limit():
    result = load_fixture(HOSTILE / "billion-laughs.yaml")

    assert rules(result) == [("parse/alias-limit", 1)]
    assert "100,000 values" in result.findings[0].message
    assert result.resources == []


@pytest.mark.timeout(30)
def test_billion_laughs_through_merge_keys_fails_fast_as_alias_limit():
    result = load_fixture(HOSTILE / "merge-laughs.yaml")

    assert [f.rule for f in result.findings] == ["parse/alias-limit"]


def test_the_node_limit_is_configurable():
    data = (HOSTILE / "billion-laughs.yaml").read_bytes()

    assert [f.rule for f in load_manifest("b.yaml", data, LoadLimits(max_nodes=50)).findings] == ["parse/alias-limit"]
    assert "more than 50 values" in load_manifest("b.yaml", data, LoadLimits(max_nodes=50)).findings[0].message


@pytest.mark.timeout(30)
def test_an_alias_that_contains_itself_is_an_alias_problem_at_its_anchor():
    result = load_fixture(HOSTILE / "recursive-alias.yaml")

    assert rules(result) == [("parse/alias-limit", 4)]
    assert "refers to the mapping or list that contains it" in result.findings[0].message
    assert result.resources == []


@pytest.mark.parametrize(
    "data",
    [b"apiVersion: v1\nkind: A\nx: &m\n  <<: *m\n", b"apiVersion: v1\nkind: A\nx: &m\n  b: [1, {<<: *m}]\n"],
)
def test_a_mapping_that_merges_itself_is_stopped_at_its_anchor(data):
    assert rules(load_manifest("a.yaml", data)) == [("parse/alias-limit", 3)]


@pytest.mark.timeout(30)
def test_deep_nesting_is_too_deep_at_the_line_that_crosses_the_limit():
    result = load_fixture(HOSTILE / "deeply-nested.yaml")

    # ConfigMap (depth 1) > data (2) > l0 on line 5 ...: the 101st level opens on line 104
    assert rules(result) == [("parse/too-deep", 104)]
    assert "more than 100 levels" in result.findings[0].message


def test_flow_nesting_beyond_libyaml_own_cap_is_too_deep_not_a_crash():
    data = b"apiVersion: v1\nkind: ConfigMap\ndata: " + b"[" * 5000 + b"]" * 5000 + b"\n"

    result = load_manifest("deep.yaml", data)

    assert [(f.rule, f.line) for f in result.findings] == [("parse/too-deep", 3)]


def test_a_file_over_the_size_cap_is_too_large_with_the_config_key_to_raise_it(tmp_path):
    (tmp_path / "big.yaml").write_bytes(make_hostile.oversized_manifest())

    result = load_workspace(Workspace.from_directory(tmp_path))

    assert rules(result) == [("parse/too-large", 1)]
    finding = result.findings[0]
    assert finding.severity is Severity.ERROR and finding.source == Source.PARSE
    assert "2,097,152-byte limit" in finding.message and "limits.maxFileBytes" in finding.message


def test_the_size_cap_is_configurable():
    data = make_hostile.oversized_manifest()

    result = load_manifest("big.yaml", data, LoadLimits(max_bytes=4 * 1024 * 1024))

    assert result.findings == [] and [r.name for r in result.resources] == ["big"]


def test_too_many_documents_keeps_the_first_ones_and_says_where_it_stopped():
    result = load_manifest("many.yaml", make_hostile.many_documents(12), LoadLimits(max_documents=10))

    assert rules(result) == [("parse/too-many-documents", 41)]
    assert len(result.resources) == 10
    assert "more than 10 documents" in result.findings[0].message


def test_binary_content_is_reported_as_binary():
    result = load_fixture(HOSTILE / "binary.yaml")

    assert [(f.rule, f.line, f.column) for f in result.findings] == [("parse/binary", 3, 1)]


def test_control_characters_are_not_text():
    result = load_manifest("a.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata: {a: \x07}\n")

    assert [(f.rule, f.line, f.column) for f in result.findings] == [("parse/binary", 3, 11)]
    assert "U+0007" in result.findings[0].message


def test_latin1_is_an_encoding_error_at_the_offending_byte():
    result = load_fixture(HOSTILE / "latin1.yaml")

    assert [(f.rule, f.line, f.column) for f in result.findings] == [("parse/encoding", 4, 12)]
    assert "0xE9" in result.findings[0].message and "UTF-8" in result.findings[0].message


def test_utf16_with_bom_and_utf8_with_bom_are_accepted():
    utf16 = load_fixture(HOSTILE / "utf16-bom.yaml")
    utf8 = load_manifest("bom.yaml", b"\xef\xbb\xbfapiVersion: v1\nkind: ConfigMap\nmetadata: {name: bom}\n")

    assert utf16.findings == [] and [r.name for r in utf16.resources] == ["utf16"]
    assert utf8.findings == [] and utf8.resources[0].position(("metadata", "name")) == (3, 12)


def test_duplicate_keys_are_reported_at_the_second_occurrence_naming_the_first():
    result = load_fixture(HOSTILE / "duplicate-key.yaml")

    assert [(f.rule, f.line, f.column) for f in result.findings] == [("parse/duplicate-key", 12, 3)]
    assert "'replicas'" in result.findings[0].message and "line 6" in result.findings[0].message
    assert result.findings[0].path == "spec.replicas"
    assert result.resources == []


def test_a_syntax_error_in_document_3_keeps_documents_1_2_and_the_ones_after_it():
    result = load_fixture(HOSTILE / "syntax-error-third-doc.yaml")

    assert [(f.rule, f.line) for f in result.findings] == [("parse/yaml-syntax", 17)]
    assert result.findings[0].column == 7
    assert [(r.name, r.doc_index, r.line) for r in result.resources] == [
        ("one", 0, 1),
        ("two", 1, 6),
        ("four", 3, 19),
    ]


def test_syntax_error_messages_are_one_plain_sentence():
    result = load_manifest("a.yaml", b"apiVersion: v1\nkind: ConfigMap\n  bad: indent\n")

    (finding,) = result.findings
    assert (finding.rule, finding.line, finding.column) == ("parse/yaml-syntax", 3, 6)
    assert finding.message == (
        "YAML syntax error: mapping values are not allowed in this context; fix the indentation, quoting or brackets here."
    )


def test_tabs_in_indentation_are_a_syntax_error_with_position():
    result = load_manifest("a.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata:\n\tkey: v\n")

    assert [(f.rule, f.line) for f in result.findings] == [("parse/yaml-syntax", 4)]


def test_an_unquoted_template_outside_a_chart_is_skipped_not_reported():
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n"

    result = load_manifest("tmpl/cm.yaml", data)

    assert result.findings == []
    assert result.skipped[0][0] == "tmpl/cm.yaml" and "template" in result.skipped[0][1]


def test_a_complex_mapping_key_is_a_syntax_error():
    result = load_manifest("a.yaml", b"apiVersion: v1\nkind: ConfigMap\n? [a, b]\n: c\n")

    assert [(f.rule, f.line) for f in result.findings] == [("parse/yaml-syntax", 3)]


def test_a_value_that_contradicts_its_tag_is_a_syntax_error():
    result = load_manifest("a.yaml", b"apiVersion: v1\nkind: ConfigMap\nreplicas: !!int many\n")

    assert [(f.rule, f.line, f.column) for f in result.findings] == [("parse/yaml-syntax", 3, 11)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.glob("*.yaml")))
def test_every_hostile_fixture_loads_without_exception_into_findings_or_resources(name):
    result = load_fixture(HOSTILE / name)

    assert all(f.source == Source.PARSE and f.severity is Severity.ERROR and f.line >= 1 for f in result.findings)
    assert result.findings or result.resources


# --- workspace -------------------------------------------------------------------------------------------------


def test_load_workspace_marks_patch_files_and_skips_missing_files():
    ws = Workspace.from_dict(
        {
            "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            "overlay/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: y}\n",
        }
    )

    result = load_workspace(ws, ["base/cm.yaml", "overlay/patch.yaml", "gone.yaml"], patch_files={"overlay/patch.yaml"})

    assert [(r.file, r.is_patch) for r in result.resources] == [("base/cm.yaml", False), ("overlay/patch.yaml", True)]
    assert result.skipped == [("gone.yaml", "not present in this tree")]


def test_load_result_extend_concatenates_every_list():
    first = LoadResult(skipped=[("a", "x")])
    first.extend(load_fixture(HOSTILE / "latin1.yaml"))

    assert first.skipped == [("a", "x")] and [f.rule for f in first.findings] == ["parse/encoding"]


def test_a_broken_document_between_good_ones_keeps_document_indexes_right():
    good = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n"
    data = good % b"first" + b"---\na: [\n" * 3 + b"---\n" + good % b"last"

    result = load_manifest("a.yaml", data)

    assert [(f.rule, f.line) for f in result.findings] == [("parse/yaml-syntax", n) for n in (6, 8, 10)]
    assert [(r.name, r.doc_index, r.line) for r in result.resources] == [("first", 0, 1), ("last", 4, 11)]


@pytest.mark.timeout(60)
def test_syntax_errors_are_capped_per_file_so_resuming_stays_bounded():
    result = load_manifest("a.yaml", b"---\na: [\n" * 100_000)

    assert [f.rule for f in result.findings] == ["parse/yaml-syntax"] * 20


def test_a_duplicate_key_only_drops_its_own_document():
    data = b"apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\nkind: C\n---\napiVersion: v1\nkind: D\n"

    result = load_manifest("a.yaml", data)

    assert rules(result) == [("parse/duplicate-key", 6)]
    assert [(r.kind, r.doc_index) for r in result.resources] == [("A", 0), ("D", 2)]


def test_empty_and_null_identity_fields_count_as_missing():
    result = load_manifest("a.yaml", b"apiVersion: v1\nkind:\nmetadata: {name: a}\n")

    assert rules(result) == [("parse/missing-apiversion-or-kind", 2)]
    assert "has no kind" in result.findings[0].message


def test_an_empty_file_and_a_comment_only_file_are_skipped_with_a_reason():
    for name, data in (("a.yaml", b""), ("a.yaml", b"# nothing here\n"), ("a.yaml", b"---\n---\n"), ("a.json", b"\n")):
        result = load_manifest(name, data)
        assert (result.resources, result.findings) == ([], [])
        assert result.skipped == [(name, "empty file (no YAML or JSON document): nothing to check")]


@pytest.mark.timeout(60)
def test_a_large_list_expands_with_each_item_keyed_from_its_own_root():
    items = "".join(f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm{i}\n" for i in range(3000))
    data = f"apiVersion: v1\nkind: List\nitems:\n{items}".encode()

    result = load_manifest("dump.yaml", data)

    assert len(result.resources) == 3000
    last = result.resources[-1]
    assert (last.name, last.line, last.position(("metadata", "name"))) == ("cm2999", 4 + 4 * 2999, (7 + 4 * 2999, 5))
    assert len(last.positions) == 5


@pytest.fixture
def pure_python_composer(monkeypatch):
    """Where PyYAML was built without libyaml, the pure-Python composer must give the same answers."""
    import bot.core.yamlpos as yamlpos

    monkeypatch.setattr(yamlpos, "_NodeLoader", yaml.SafeLoader)


@pytest.mark.timeout(60)
def test_the_pure_python_composer_gives_the_same_positions_and_limits(pure_python_composer):
    deployment = load_fixture(MANIFESTS / "multi-doc.yaml").resources[1]

    assert deployment.position(parse_path("spec.template.spec.containers[1].image")) == (26, 11)
    assert rules(load_fixture(HOSTILE / "billion-laughs.yaml")) == [("parse/alias-limit", 1)]
    assert rules(load_fixture(HOSTILE / "duplicate-key.yaml")) == [("parse/duplicate-key", 12)]
    assert rules(load_fixture(HOSTILE / "syntax-error-third-doc.yaml")) == [("parse/yaml-syntax", 17)]


@pytest.mark.timeout(60)
def test_the_pure_python_composer_turns_runaway_recursion_into_too_deep(pure_python_composer):
    data = b"apiVersion: v1\nkind: ConfigMap\ndata: " + b"[" * 5000 + b"]" * 5000 + b"\n"

    assert [f.rule for f in load_manifest("deep.yaml", data).findings] == ["parse/too-deep"]


def test_listed_size_over_the_cap_is_too_large_without_reading_the_file():
    reads: list[str] = []

    def read(path: str) -> bytes:
        reads.append(path)
        return b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"

    ws = Workspace(["big.yaml", "small.yaml"], read, sizes={"big.yaml": 9_000_000, "small.yaml": 50})
    result = load_workspace(ws)
    assert rules(result) == [("parse/too-large", 1)]
    assert "9,000,000 bytes" in result.findings[0].message
    assert reads == ["small.yaml"]
