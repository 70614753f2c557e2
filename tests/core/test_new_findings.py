"""New findings only: for a change, what was already wrong at base is listed apart and never blocks."""

import json
from pathlib import Path

import jsonschema

from bot.core.evaluate import EvalOptions
from bot.core.findings import Finding, ResourceRef, Severity
from bot.core.new_findings import finding_identity, split_preexisting
from bot.pull.evaluate import evaluate_change
from bot.pull.fake import FakePullContext
from bot.reporters.json_report import JsonReporter
from bot.reporters.markdown import MarkdownReporter
from bot.reporters.text import TextReporter
from tests.core.test_evaluate import sample_files

# Two containers, both on an untagged image: the change touches only the replicas of this file.
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:latest
"""


def change(base: dict[str, str], head: dict[str, str], config: str = "") -> FakePullContext:
    if config:
        base = {**base, ".gitops-bot.yaml": config}
        head = {**head, ".gitops-bot.yaml": config}
    return FakePullContext(head=head, base=base)


def test_old_finding_in_a_touched_file_does_not_block():
    edited = "# scaled for the sale\n" + DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    report = evaluate_change(change({"apps/web.yaml": DEPLOYMENT}, {"apps/web.yaml": edited}))
    assert report.blocking == []
    assert report.exit_code() == 0
    old = [(f.rule, f.line, f.path) for f in report.preexisting if f.rule == "image-tag"]
    # Matched by rule + object + field path: the comment line moved it from 18 to 19.
    assert old == [("image-tag", 19, "spec.template.spec.containers[0].image")]
    assert not [f for f in report.findings if f.rule == "image-tag"]


def test_finding_the_change_introduces_blocks_next_to_old_ones():
    head = DEPLOYMENT + "        - name: sidecar\n          image: envoy\n"
    report = evaluate_change(change({"apps/web.yaml": DEPLOYMENT}, {"apps/web.yaml": head}))
    assert [(f.rule, f.line, f.path) for f in report.blocking] == [
        ("image-tag", 20, "spec.template.spec.containers[1].image")
    ]
    assert ("image-tag", 18) in {(f.rule, f.line) for f in report.preexisting}


def test_report_mode_all_judges_the_whole_state():
    edited = DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    ctx = change({"apps/web.yaml": DEPLOYMENT}, {"apps/web.yaml": edited}, config="reportMode: all\n")
    report = evaluate_change(ctx)
    assert [(f.rule, f.line) for f in report.blocking] == [("image-tag", 18)]
    assert report.preexisting == []
    # The CLI's --all (EvalOptions.report_mode) does the same without a config.
    report = evaluate_change(change({"apps/web.yaml": DEPLOYMENT}, {"apps/web.yaml": edited}), EvalOptions(report_mode="all"))
    assert [(f.rule, f.line) for f in report.blocking] == [("image-tag", 18)]


def test_a_renamed_file_keeps_its_old_findings_old():
    report = evaluate_change(change({"apps/web.yaml": DEPLOYMENT}, {"apps/frontend/web.yaml": DEPLOYMENT}))
    assert report.blocking == []
    assert {(f.rule, f.file) for f in report.preexisting} >= {("image-tag", "apps/frontend/web.yaml")}


def test_dropping_a_waiver_makes_the_finding_new():
    waived = DEPLOYMENT.replace("  namespace: shop\n", '  namespace: shop\n  annotations:\n    gitops-bot.io/skip.image-tag: "pinned by the CD system"\n')
    report = evaluate_change(change({"apps/web.yaml": waived}, {"apps/web.yaml": DEPLOYMENT}))
    assert [f.rule for f in report.blocking] == ["image-tag"]


def test_identity_ignores_line_and_message_but_not_object_or_path():
    ref = ResourceRef("apps/v1", "Deployment", "shop", "web")
    a = Finding("image-tag", Severity.ERROR, "old message", file="a.yaml", line=3, resource=ref, path="spec.x")
    assert finding_identity(a) == finding_identity(a.with_(line=30, message="new", file="b.yaml"))
    assert finding_identity(a) != finding_identity(a.with_(path="spec.y"))
    assert finding_identity(a) != finding_identity(a.with_(resource=ResourceRef("apps/v1", "Deployment", "shop", "api")))
    assert finding_identity(a) != finding_identity(a.with_(rule="privileged-container"))
    new, old = split_preexisting([a, a.with_(path="spec.y")], [a.with_(line=1)])
    assert (new, old) == ([a.with_(path="spec.y")], [a])


def test_preexisting_findings_in_every_output():
    edited = DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    report = evaluate_change(change({"apps/web.yaml": DEPLOYMENT}, {"apps/web.yaml": edited}))
    data = json.loads(JsonReporter().render(report))
    schema = json.loads((Path(__file__).resolve().parents[2] / "bot/schemas/report-v1.json").read_text())
    jsonschema.validate(data, schema)
    assert data["summary"]["error"] == 0 and data["summary"]["passed"] is True
    assert data["summary"]["preexisting"] == len(report.preexisting) > 0
    assert {f["rule"] for f in data["preexisting"]} >= {"image-tag"}
    assert not [f for f in data["findings"] if f["rule"] == "image-tag"]
    text = TextReporter().render(report)
    assert "already on the base branch" in text and "apps/web.yaml:18:" in text
    markdown = MarkdownReporter().render(report)
    assert "Already on the base branch:" in markdown and "`image-tag`" in markdown


def test_sample_repo_change_inherits_nothing():
    base = sample_files()
    head = dict(base)
    path = "apps/payments/deployment.yaml"
    head[path] = head[path].replace(b"replicas: 2", b"replicas: 4") if b"replicas: 2" in head[path] else head[path] + b"\n"
    report = evaluate_change(FakePullContext(head=head, base=base))
    assert report.blocking == []
    assert {"image-tag", "privileged-container"} <= {f.rule for f in report.preexisting}
