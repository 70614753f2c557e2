"""The whole core on real trees: exact rules, files and lines, waivers kept, change scoping."""

import datetime as dt
from pathlib import Path

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import ResourceRef
from bot.core.workspace import Workspace
from bot.pull.evaluate import evaluate_change
from bot.pull.fake import FakePullContext

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample-repo"


def sample_files() -> dict[str, bytes]:
    return {p.relative_to(SAMPLE).as_posix(): p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()}


SAMPLE_BLOCKING = {
    ("apps/payments/deployment.yaml", 18, "image-tag"),
    ("apps/payments/deployment.yaml", 20, "privileged-container"),
    ("apps/payments/secret.yaml", 7, "plain-secret"),
    ("apps/payments/widget.yaml", 7, "schema/type"),
    ("apps/payments/widget.yaml", 8, "schema/enum"),
    ("apps/podinfo/overlays/production/scale-patch.yaml", 7, "schema/type"),
    ("infrastructure/legacy-ingress.yaml", 1, "schema/removed-api-version"),
}


def test_sample_repo_verdict_is_exact():
    report = evaluate(Workspace.from_directory(SAMPLE), options=EvalOptions(today=dt.date(2026, 11, 26)))
    blocking = sorted((f.file, f.line, f.rule) for f in report.blocking)
    assert blocking == [
        ("apps/payments/deployment.yaml", 18, "image-tag"),
        ("apps/payments/deployment.yaml", 20, "privileged-container"),
        ("apps/payments/secret.yaml", 7, "plain-secret"),
        ("apps/payments/widget.yaml", 7, "schema/type"),
        ("apps/payments/widget.yaml", 8, "schema/enum"),
        ("apps/podinfo/overlays/production/scale-patch.yaml", 7, "schema/type"),
        ("infrastructure/legacy-ingress.yaml", 1, "schema/removed-api-version"),
    ]
    assert set(blocking) == SAMPLE_BLOCKING
    # Pod Security restricted items warn under the default baseline profile.
    warned = {(f.line, f.rule) for f in report.findings if f.file == "apps/payments/deployment.yaml" and f.severity.label == "warning"}
    assert {(19, "privilege-escalation"), (19, "run-as-non-root")} <= warned
    waived = {(f.rule, f.waived.kind) for f in report.waived}
    assert waived == {("rbac-cluster-admin", "annotation"), ("service-exposure", "exception")}
    assert report.kubernetes_version == "1.31"
    assert report.exit_code() == 1
    # The staging patch sets only spec.replicas: a partial object, never "missing selector".
    assert not [f for f in report.findings if "staging" in f.file]
    # Helm templates and kustomizations are skipped with a notice, never parse errors.
    assert not [f for f in report.findings if f.file.startswith("charts/")]
    assert any("charts/monitoring/templates/deployment.yaml" in n for n in report.notices)
    # Secret values never reach a message.
    assert not [f for f in report.findings if "hunter2" in f.message]


def test_profile_restricted_blocks_the_restricted_controls_too():
    files = sample_files()
    files[".gitops-bot.yaml"] = files[".gitops-bot.yaml"] + b"profile: restricted\n"
    report = evaluate(Workspace.from_dict(files), options=EvalOptions(today=dt.date(2026, 11, 26)))
    added = sorted({(f.file, f.line, f.rule) for f in report.blocking} - SAMPLE_BLOCKING)
    assert added == [
        ("apps/payments/deployment.yaml", 19, "pod-security-restricted"),
        ("apps/payments/deployment.yaml", 19, "privilege-escalation"),
        ("apps/payments/deployment.yaml", 19, "run-as-non-root"),
        ("apps/podinfo/base/deployment.yaml", 27, "pod-security-restricted"),
    ]
    # Under the default profile the same findings are warnings; a `rules:` override still wins over the profile.
    files[".gitops-bot.yaml"] = files[".gitops-bot.yaml"].replace(b"rules:\n", b"rules:\n  run-as-non-root: notice\n", 1)
    report = evaluate(Workspace.from_dict(files), options=EvalOptions(today=dt.date(2026, 11, 26)))
    assert {f.severity.label for f in report.findings if f.rule == "run-as-non-root"} == {"notice"}


def test_rule_overrides_and_disabling():
    files = sample_files()
    files[".gitops-bot.yaml"] = b'crds: [crds/]\nrules: {image-tag: warning, plain-secret: off, schema/unknown-kind: error}\n'
    report = evaluate(Workspace.from_dict(files))
    rules = {(f.rule, f.severity.label) for f in report.findings}
    assert ("image-tag", "warning") in rules
    assert not [r for r in rules if r[0] == "plain-secret"]
    assert ("schema/unknown-kind", "error") in rules


def test_invalid_config_blocks_with_its_line_and_checks_nothing_else():
    files = sample_files()
    files[".gitops-bot.yaml"] = b"version: 1\nkubernetesVersion: 1.31\n"
    report = evaluate(Workspace.from_dict(files))
    assert [(f.rule, f.file, f.line) for f in report.findings] == [("config/invalid", ".gitops-bot.yaml", 2)]
    assert report.exit_code() == 1


def test_pull_request_scope_uses_base_config_and_lists_deleted_objects():
    base = sample_files()
    head = dict(base)
    head["apps/new/deployment.yaml"] = base["apps/podinfo/base/deployment.yaml"].replace(b"6.7.1", b"latest")
    del head["apps/podinfo/base/configmap.yaml"]
    # The PR also tries to switch off the rule it breaks; the base config judges it.
    head[".gitops-bot.yaml"] = base[".gitops-bot.yaml"].replace(b"single-replica: notice", b"image-tag: off")
    report = evaluate_change(FakePullContext(head=head, base=base))
    assert sorted({f.file for f in report.findings if f.source != "config"}) == ["apps/new/deployment.yaml"]
    assert [f.rule for f in report.blocking] == ["image-tag"]
    assert report.deleted == [ResourceRef("v1", "ConfigMap", "podinfo", "podinfo-config")]
    assert report.policy_changes == [{"file": ".gitops-bot.yaml", "name": "configuration", "passed": True, "error": ""}]


def test_change_without_manifests_passes_and_says_so():
    base = {"README.md": b"hello\n"}
    head = {"README.md": b"hello again\n"}
    report = evaluate_change(FakePullContext(head=head, base=base))
    assert report.findings == [] and report.resources_checked == 0 and report.passed()


def test_evaluations_on_several_threads_share_no_engine():
    """regorus engines panic when used from another thread; each worker thread must get its own."""
    import threading

    results: list[object] = []

    def run() -> None:
        try:
            results.append(len(evaluate(Workspace.from_directory(SAMPLE)).blocking))
        except BaseException as e:  # a PyO3 panic is a BaseException
            results.append(repr(e))

    run()
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7, 7, 7, 7]
