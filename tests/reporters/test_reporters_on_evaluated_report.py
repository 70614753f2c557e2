"""Every format on a report the real core produced (not hand-built): schemas hold, lines survive."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache

import jsonschema

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.report import Report
from bot.core.workspace import Workspace
from bot.reporters import get

from .sample import report_schema, sarif_schema

FILES = {
    "apps/web.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: "three"
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:latest
""",
    "apps/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  bad: [unclosed\n",
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/templates/deployment.yaml": "{{ .Values.image }}\n",
}


@cache
def evaluated() -> Report:
    return evaluate(Workspace.from_dict(FILES), options=EvalOptions())


def test_json_of_a_real_report_validates() -> None:
    data = json.loads(get("json").render(evaluated()))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    assert data["summary"]["resources"] == 1


def test_sarif_of_a_real_report_validates_and_keeps_lines() -> None:
    log = json.loads(get("sarif").render(evaluated()))
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    lines = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in log["runs"][0]["results"]
    }
    assert lines["image-tag"] == 16
    assert lines["schema/type"] == 7


def test_junit_of_a_real_report_fails_the_broken_file_and_the_deployment() -> None:
    root = ET.fromstring(get("junit").render(evaluated()))
    failed = sorted(
        (suite.get("name"), case.get("name"))
        for suite in root.findall("testsuite")
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    )
    assert failed == [("apps/broken.yaml", "(file)"), ("apps/web.yaml", "Deployment/prod/web")]


def test_github_and_text_of_a_real_report() -> None:
    github = get("github").render(evaluated()).splitlines()
    assert any(
        line.startswith("::error file=apps/web.yaml,line=16,col=11,title=image-tag::") for line in github
    )
    text = get("text").render(evaluated())
    assert "apps/web.yaml:7:3  error    schema/type  " in text
    assert "note: skipped 2 files: " in text
