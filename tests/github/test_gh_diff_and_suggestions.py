"""Diff-line filtering for review comments, and mechanical fixes as suggestion text."""

from __future__ import annotations

import pytest
from gh_helpers import finding

from bot.core.suggestions import Suggestion, suggest
from bot.github.diff import right_side_lines
from tests.support.github_standin import unified_patch

PATCH = """@@ -1,4 +1,5 @@
 a: 1
-b: 2
+b: 3
+c: 4
 d: 5
 e: 6
@@ -20,3 +21,3 @@ spec:
 x: 1
-y: 2
+y: 3
\\ No newline at end of file"""


def test_right_side_lines_are_added_and_context_lines_of_each_hunk() -> None:
    assert right_side_lines(PATCH) == {1, 2, 3, 4, 5, 21, 22}


def test_lines_of_a_generated_patch() -> None:
    before = b"".join(b"line %d\n" % i for i in range(1, 31))
    after = before.replace(b"line 15\n", b"line 15 changed\n")
    patch = unified_patch(before, after)
    assert right_side_lines(patch) == set(range(12, 19))
    assert right_side_lines("") == set()


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: nginx:latest
          securityContext:
            allowPrivilegeEscalation: false
        - name: sidecar
          image: ghcr.io/acme/sidecar:1.0
          securityContext: {}
        - name: bare
          image: ghcr.io/acme/bare:1.0
      hostNetwork: true  # needed?
"""


@pytest.mark.parametrize(
    ("rule", "line", "path", "expected"),
    [
        ("run-as-non-root", 11, "spec.template.spec.containers[0].securityContext",
         "          securityContext:\n            runAsNonRoot: true"),
        ("run-as-non-root", 15, "spec.template.spec.containers[1].securityContext",
         "          securityContext:\n            runAsNonRoot: true"),
        ("run-as-non-root", 16, "spec.template.spec.containers[2]",
         "        - name: bare\n          securityContext:\n            runAsNonRoot: true"),
        ("host-network", 18, "spec.template.spec.hostNetwork", "      hostNetwork: false  # needed?"),
        ("image-tag", 10, "spec.template.spec.containers[0].image", None),
        ("liveness-probe", 9, "spec.template.spec.containers[0]", None),
    ],
)
def test_suggestions(rule: str, line: int, path: str, expected: str | None) -> None:
    got = suggest(finding(rule, line, path=path), DEPLOYMENT)
    assert (got.replacement if got else None) == expected
    if got:
        assert (got.start_line, got.end_line) == (line, line)


def test_wrong_value_is_replaced_in_place() -> None:
    text = "spec:\n  containers:\n    - name: a\n      securityContext:\n        runAsNonRoot: false\n"
    got = suggest(finding("run-as-non-root", 5, path="spec.containers[0].securityContext.runAsNonRoot"), text)
    assert got == Suggestion(5, 5, "        runAsNonRoot: true")


def test_policy_given_replacement_wins_and_out_of_range_lines_get_none() -> None:
    text = "a: 1\nimage: nginx:latest\n"
    assert suggest(finding("custom", 2, suggestion="image: nginx:1.27.0"), text) == Suggestion(
        2, 2, "image: nginx:1.27.0")
    assert suggest(finding("run-as-non-root", 9), text) is None
    assert suggest(finding("run-as-non-root", 0), text) is None
