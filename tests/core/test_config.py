"""`.gitops-bot.yaml`: valid files load, invalid ones name the key and line."""

import datetime as dt

import pytest

from bot.core.config import InvalidConfigError, RepoConfig, load_repo_config
from bot.core.findings import Finding, ResourceRef, Severity


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(InvalidConfigError) as err:
        load_repo_config(text.encode())
    return [(p.line, p.key, p.message) for p in err.value.problems]


def test_missing_file_gives_defaults():
    config = load_repo_config(None)
    assert config == RepoConfig()
    assert config.selects("apps/web/deployment.yaml")
    assert not config.selects("README.md")


def test_full_config_loads():
    config = load_repo_config(
        b"""
version: 1
kubernetesVersion: "1.29"
strict: true
unknownKinds: error
include: ["apps/**"]
exclude: ["apps/legacy/**"]
crds: [crds/]
policies: {engine: opa, directories: [policy/], namespaces: [main, k8s.security], builtin: false}
rules:
  image-tag: warning
  single-replica: off
  liveness-probe: {enabled: false}
  host-path: {severity: notice}
exceptions:
  - rule: run-as-non-root
    reason: vendor image runs as root (VENDOR-7)
    expires: 2030-01-31
    resources: {kind: Deployment, namespace: legacy, name: "old-*"}
limits: {maxFileBytes: 4096}
github: {neutralOnWarnings: true, reviewComments: false}
commands: {prefix: /ops, approvers: {users: [alice], teams: [org/platform]}, allowAuthorApproval: true}
"""
    )
    assert config.kubernetes_version == "1.29"
    assert config.strict and config.unknown_kinds == "error"
    assert config.policy_engine == "opa" and config.policy_dirs == ("policy/",)
    assert config.policy_namespaces == ("main", "k8s.security") and not config.builtin_policies
    assert config.rule_overrides == {
        "image-tag": Severity.WARNING,
        "single-replica": None,
        "liveness-probe": None,
        "host-path": Severity.NOTICE,
    }
    (exc,) = config.exceptions
    assert exc.expires == dt.date(2030, 1, 31) and exc.line == 16
    assert config.max_file_bytes == 4096
    assert config.raw["github"] == {"neutralOnWarnings": True, "reviewComments": False}  # read by the App
    assert config.selects("apps/web/a.yaml") and not config.selects("apps/legacy/a.yaml")
    assert not config.selects("infra/a.yaml")


def test_errors_name_key_and_line():
    assert problems(
        """version: 1
kubernetesVersion: "131"
strikt: true
rules:
  image-tag: warnng
exceptions:
  - rule: x
policies:
  engine: wasm
"""
    ) == [
        (2, "kubernetesVersion", '"131" is not a version like "1.31"'),
        (3, "strikt", 'unknown key (did you mean "strict"?)'),
        (5, "rules.image-tag", 'expected "off", "error", "warning", "notice", true/false or {enabled, severity}'),
        (7, "exceptions[0]", '"reason" is a required property'),
        (9, "policies.engine", '"wasm" is not one of "regorus", "opa", "opa-server"'),
    ]


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("strict: [unclosed\n", 2, "YAML syntax error"),
        ("- a\n- b\n", 1, "must be a mapping"),
        ("a: &x [1]\nb: *x\n", 2, "aliases are not allowed"),
        ("exceptions:\n  - {rule: a, reason: abc, expires: 2027-13-40}\n", 2, "not a valid date"),
    ],
)
def test_malformed_files_are_clear_errors(text, line, fragment):
    (problem,) = problems(text)
    assert problem[0] == line and fragment in problem[2]


def test_invalid_config_becomes_config_findings():
    with pytest.raises(InvalidConfigError) as err:
        load_repo_config(b"strict: maybe\n", ".gitops-bot.yaml")
    (finding,) = err.value.findings()
    assert (finding.rule, finding.file, finding.line, finding.source) == ("config/invalid", ".gitops-bot.yaml", 1, "config")
    assert finding.blocking


def test_exception_matching_and_expiry():
    config = load_repo_config(
        b"exceptions:\n  - {rule: image-tag, reason: pinned by renovate, expires: 2027-01-01, resources: {name: 'web-*'}}\n"
    )
    (exc,) = config.exceptions
    hit = Finding("image-tag", Severity.ERROR, "m", resource=ResourceRef("apps/v1", "Deployment", "prod", "web-1"))
    miss = hit.with_(resource=ResourceRef("apps/v1", "Deployment", "prod", "api"))
    assert exc.matches(hit) and not exc.matches(miss)
    assert not exc.expired(dt.date(2027, 1, 1)) and exc.expired(dt.date(2027, 1, 2))
