"""METADATA comment blocks: what the docs, config validation and findings read from a policy."""

from __future__ import annotations

import pytest

from bot.core.findings import Severity
from bot.core.rego import RuleMetadata, parse_package_metadata
from bot.errors import PolicyError

IMAGE_TAG = """# METADATA
# title: Container images must be pinned
# description: >-
#   "latest" moves: the same manifest
#   deploys different code.
# custom:
#   id: image-tag
#   severity: warning
#   remediation: Pin a tag or a digest.
package gitops.builtin.image_tag

import rego.v1

# METADATA
# title: rule-level block, not the package's
deny contains "x" if false
"""


def test_package_block_fields():
    assert parse_package_metadata(IMAGE_TAG) == RuleMetadata(
        id="image-tag",
        title="Container images must be pinned",
        severity=Severity.WARNING,
        description='"latest" moves: the same manifest deploys different code.',
        remediation="Pin a tag or a digest.",
        package="gitops.builtin.image_tag",
    )


def test_block_with_package_scope_wins_over_an_earlier_one():
    source = """package main

# METADATA
# title: a rule
# custom:
#   id: rule-one
deny contains "a" if true

# METADATA
# scope: package
# title: the package
# custom:
#   id: pkg-id
#   severity: ERROR
"""
    meta = parse_package_metadata(source)
    assert (meta.id, meta.title, meta.severity, meta.package) == (
        "pkg-id",
        "the package",
        Severity.ERROR,
        "main",
    )


def test_first_block_when_none_is_package_scoped():
    source = "package main\n\n# METADATA\n# title: only rule\ndeny contains 1 if true\n"
    meta = parse_package_metadata(source)
    assert (meta.id, meta.title, meta.severity, meta.description, meta.remediation) == (
        "",
        "only rule",
        None,
        "",
        "",
    )


def test_no_block_is_none():
    assert parse_package_metadata("package main\n# just a comment\ndeny contains 1 if true\n") is None


def test_unknown_severity_is_an_error():
    source = "# METADATA\n# custom:\n#   severity: fatal\npackage p\n"
    with pytest.raises(PolicyError) as err:
        parse_package_metadata(source)
    assert (
        str(err.value) == "METADATA of package p: unknown severity 'fatal': expected error, warning or notice"
    )


def test_invalid_yaml_is_an_error_with_its_line():
    source = "package p\n# METADATA\n# title: [unclosed\ndeny contains 1 if true\n"
    with pytest.raises(PolicyError) as err:
        parse_package_metadata(source)
    assert str(err.value) == (
        "METADATA block at line 2: not valid YAML: YAML syntax error while parsing a flow sequence (started on line 1): "
        "did not find expected ',' or ']'; fix the indentation, quoting or brackets here."
    )
