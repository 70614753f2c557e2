"""Waivers mark findings, never drop them; a waiver without a reason does not count."""

import datetime as dt

from bot.core.config import load_repo_config
from bot.core.findings import Finding, ResourceRef, Severity, Source
from bot.core.resource import Resource
from bot.core.waivers import (
    annotation_waivers,
    expired_exception_notices,
    waive_by_annotations,
    waive_by_exceptions,
)

REF = ResourceRef("apps/v1", "Deployment", "prod", "web")


def resource(annotations: dict) -> Resource:
    keys = list(annotations)
    positions = {("metadata", "annotations", k): (6 + i, 5) for i, k in enumerate(keys)}
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod", "annotations": annotations}}
    return Resource(obj=obj, file="apps/web.yaml", positions=positions)


def finding(rule: str, source: str = Source.POLICY) -> Finding:
    return Finding(rule, Severity.ERROR, "boom", file="apps/web.yaml", line=20, resource=REF, source=source)


def test_annotation_with_reason_waives_that_rule_only():
    waivers, problems = annotation_waivers(resource({"gitops-bot.io/skip.image-tag": "pinned by digest in CD (OPS-1)"}))
    assert problems == []
    out = waive_by_annotations([finding("image-tag"), finding("privileged-container")], waivers)
    assert out[0].waived is not None and out[0].waived.reason == "pinned by digest in CD (OPS-1)"
    assert not out[0].blocking
    assert out[1].waived is None and out[1].blocking


def test_annotation_without_reason_does_not_count_and_says_where():
    r = resource({"team": "x", "gitops-bot.io/skip.image-tag": ""})
    waivers, problems = annotation_waivers(r)
    assert waivers == {}
    (p,) = problems
    assert (p.rule, p.line, p.severity) == ("waiver/missing-reason", 7, Severity.WARNING)


def test_parse_findings_cannot_be_waived():
    waivers, _ = annotation_waivers(resource({"gitops-bot.io/skip.all": "legacy manifests, see OPS-9"}))
    out = waive_by_annotations([finding("parse/yaml-syntax", Source.PARSE), finding("image-tag")], waivers)
    assert out[0].waived is None and out[1].waived is not None


def test_expired_exception_stops_applying_and_says_so():
    config = load_repo_config(
        b"exceptions:\n  - rule: image-tag\n    reason: migration window\n    expires: 2026-01-31\n"
    )
    before = waive_by_exceptions([finding("image-tag")], config.exceptions, dt.date(2026, 1, 31))
    after = waive_by_exceptions([finding("image-tag")], config.exceptions, dt.date(2026, 2, 1))
    assert before[0].waived is not None and before[0].waived.expires == "2026-01-31"
    assert after[0].waived is None and after[0].blocking
    (notice,) = expired_exception_notices(config.exceptions, ".gitops-bot.yaml", dt.date(2026, 2, 1))
    assert (notice.rule, notice.file, notice.line) == ("waiver/expired", ".gitops-bot.yaml", 2)
    assert "expired on 2026-01-31" in notice.message
