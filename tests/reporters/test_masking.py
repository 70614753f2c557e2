"""The second line of defence: credentials never reach any output."""

from __future__ import annotations

import pytest

from bot.core.findings import Finding, Severity, Waiver
from bot.core.masking import mask_finding, mask_report, mask_secrets
from bot.core.report import Report

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3\nabc/def+==\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token ghp_0123456789abcdefghijABCDEFGHIJ012345 leaked", "token ghp_*** leaked"),
        ("ghs_0123456789abcdefghijABCDEFGHIJ012345", "ghs_***"),
        ("gho_0123456789abcdefghijABCDEFGHIJ012345", "gho_***"),
        ("github_pat_11ABCDEFG0_0123456789abcdefghijKLMNOP", "github_pat_***"),
        ("key AKIAIOSFODNN7EXAMPLE in env", "key AKIA*** in env"),
        ("Authorization: Bearer eyJhbGciOi.abc-123_x", "Authorization: Bearer ***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        ('"authorization": "abcdef"', '"authorization": "***"'),
        ("curl -H 'Bearer abcdefgh12'", "curl -H 'Bearer ***'"),
        ("password: hunter2", "password: ***"),
        ("DB_PASSWORD=s3cr3t rest", "DB_PASSWORD=*** rest"),
        ('{"apiKey": "abc123", "x": 1}', '{"apiKey": "***", "x": 1}'),
        ("client_secret='xyz'", "client_secret='***'"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ***"),
        (f"before {PEM} after", "before -----BEGIN RSA PRIVATE KEY-----*** after"),
        ("cut -----BEGIN PRIVATE KEY-----\nMIIabc", "cut -----BEGIN PRIVATE KEY-----***"),
        ("xoxb-123456789012-abcdefghij", "xoxb-***"),
        (
            "DATABASE_URL uses postgres://app:s3cret@db:5432/app",
            "DATABASE_URL uses postgres://app:***@db:5432/app",
        ),
    ],
)
def test_credentials_are_masked(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected
    assert mask_secrets(expected) == expected  # masking twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        'container "web" uses image "nginx:latest"; pin a version tag or digest',
        "secretName: db-creds",
        "tokenTTL: 5m",
        "Basic authentication is disabled",
        "the token rotation job",
        "password: ''",
        'field "password" is required',
        "Secret/prod/db",
        "see https://example.com:8443/docs and git@github.com:org/repo",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


def test_mask_is_idempotent() -> None:
    once = mask_secrets("password: hunter2 and ghp_0123456789abcdefghijABCDEFGHIJ012345")
    assert mask_secrets(once) == once == "password: *** and ghp_***"


def test_mask_finding_covers_every_free_text_field() -> None:
    finding = Finding(
        "r",
        Severity.ERROR,
        "password=a1",
        file="password=keep.yaml",
        remediation="token: b2",
        suggestion="  password: c3",
        waived=Waiver("approval", "approved, api_key=d4", by="bob"),
    )
    masked = mask_finding(finding)
    assert (masked.message, masked.remediation, masked.suggestion, masked.waived.reason) == (
        "password=***",
        "token: ***",
        "  password: ***",
        "approved, api_key=***",
    )
    assert masked.waived.by == "bob"
    assert masked.file == "password=keep.yaml"  # locations are identity, not free text


def test_mask_report_masks_notices_and_leaves_original_untouched() -> None:
    report = Report(findings=[Finding("r", Severity.ERROR, "password=a1")], notices=["secret: x1"])
    masked = mask_report(report)
    assert masked.notices == ["secret: ***"]
    assert masked.findings[0].message == "password=***"
    assert report.findings[0].message == "password=a1"


@pytest.mark.parametrize(
    "text",
    [
        ".".join(["abcde"] * 40000),  # a key-character run broken by dots: quadratic before the lookbehind
        "ab+" * 70000,  # looks like URL schemes over and over
        "passwordpassword" * 12000,  # the sensitive word again and again, never followed by ':'
    ],
    ids=["dotted", "schemes", "repeated-word"],
)
def test_pathological_input_is_returned_unchanged(text: str) -> None:
    # Hostile PR content reaches the masker; these inputs took minutes with the first regexes
    # (one scan per start position). The suite's timeout is what would catch a regression.
    assert mask_secrets(text) == text
