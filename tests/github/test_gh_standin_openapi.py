"""The stand-in's check against GitHub's REST description catches what GitHub would reject."""

from __future__ import annotations

from tests.support.github_standin import RecordedRequest, match_operation, request_problems


def req(method: str, path: str, body: object = None) -> RecordedRequest:
    return RecordedRequest(method, path, {}, body, "token x")


def test_known_operations_match_their_templates() -> None:
    assert match_operation("PATCH", "/repos/o/r/check-runs/12")[0] == "/repos/{owner}/{repo}/check-runs/{check_run_id}"
    assert match_operation("GET", "/repos/o/r/branches/release/v1/protection/required_status_checks")[0] == (
        "/repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks")
    assert match_operation("DELETE", "/repos/o/r/check-runs/12") is None


def test_valid_check_run_body_passes() -> None:
    body = {"name": "GitOps policy", "head_sha": "b" * 40, "status": "in_progress",
            "output": {"title": "t", "summary": "s", "annotations": [
                {"path": "a.yaml", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"}]}}
    assert request_problems(req("POST", "/repos/o/r/check-runs", body)) == []


def test_bad_requests_are_reported() -> None:
    assert request_problems(req("POST", "/repos/o/r/check-runs/1/rerun-everything", {})) == [
        "POST /repos/o/r/check-runs/1/rerun-everything: no such operation in GitHub's REST description"]
    problems = request_problems(req("PATCH", "/repos/o/r/check-runs/1", {
        "conclusion": "great", "output": {"title": "t", "summary": "s", "annotations": [
            {"path": "a.yaml", "start_line": 1, "end_line": 1, "annotation_level": "error", "message": "m"}]}}))
    assert any(p.startswith("PATCH /repos/o/r/check-runs/1: conclusion: 'great' is not one of") for p in problems)
    assert any("annotations/0/annotation_level: 'error' is not one of" in p for p in problems)
    assert request_problems(req("POST", "/repos/o/r/check-runs", {"name": "x"})) == [
        "POST /repos/o/r/check-runs: (body): 'head_sha' is a required property"]
    assert request_problems(req("POST", "/repos/o/r/issues/3/comments", None)) == [
        "POST /repos/o/r/issues/3/comments: the request body is required"]
