"""Plan markdown: risks first, one line per root, and comments split at object boundaries within the limit."""

from __future__ import annotations

import re

import pytest

from bot.plan import (
    COMMENT_LIMIT,
    ObjectDiff,
    Plan,
    Risk,
    RootPlan,
    render_plan_comments,
    render_plan_markdown,
)
from bot.plan.model import CREATE, DELETE, NOT_RENDERED, UPDATE, Deployer


def _diff(name: str, lines: int) -> str:
    body = "\n".join(f"+  key-{i}: value-{i}-{'x' * 40}" for i in range(lines))
    return f"--- /dev/null\n+++ head: ConfigMap apps/{name}\n@@ -0,0 +1,{lines} @@\n{body}"


def _big_plan(roots: int = 3, objects: int = 12, lines: int = 30) -> Plan:
    plan = Plan(base="abc123", head="def456")
    for r in range(roots):
        root = RootPlan(path=f"overlays/env-{r}", kind="kustomize")
        for o in range(objects):
            name = f"config-{r}-{o}"
            root.objects.append(ObjectDiff(CREATE, ("", "ConfigMap", "apps", name), _diff(name, lines)))
        plan.roots.append(root)
    return plan


def _fences_balanced(part: str) -> bool:
    return len(re.findall(r"^```", part, flags=re.MULTILINE)) % 2 == 0


def test_a_plan_larger_than_the_limit_is_split_at_object_boundaries():
    plan = _big_plan()
    limit = 8000

    parts = render_plan_comments(plan, limit=limit)

    assert len(parts) > 3
    total = len(parts)
    for number, part in enumerate(parts, start=1):
        assert len(part) <= limit
        assert part.startswith(f"## Plan (part {number} of {total})\n\n")
        assert _fences_balanced(part)
        assert part.count("<details") == part.count("</details>")
    joined = "".join(parts)
    for root in plan.roots:
        for obj in root.objects:
            assert joined.count(f"<summary>+ create ConfigMap apps/{obj.key[3]}</summary>") == 1
            assert obj.diff in joined  # never cut inside an object
    assert "<summary><b>overlays/env-0</b> (continued)</summary>" in joined


def test_a_plan_within_the_limit_is_one_comment_equal_to_the_markdown():
    plan = _big_plan(roots=1, objects=2, lines=3)

    assert render_plan_comments(plan) == [render_plan_markdown(plan)]
    assert render_plan_markdown(plan).startswith("## Plan\n\n`abc123` → `def456`: 1 root affected, `+2 ~0 -0`\n\n")


def test_an_object_whose_diff_alone_is_too_large_is_truncated_with_a_note():
    plan = _big_plan(roots=1, objects=1, lines=2000)
    limit = 10_000

    parts = render_plan_comments(plan, limit=limit)

    assert len(parts) == 1
    assert len(parts[0]) <= limit
    assert _fences_balanced(parts[0])
    shown = re.search(r"_Diff truncated: (\d+) of 2003 lines shown; run `gitops-bot plan` locally", parts[0])
    assert shown is not None and 100 < int(shown.group(1)) < 2003


def test_the_comment_limit_is_githubs_and_too_small_a_limit_is_refused():
    assert COMMENT_LIMIT == 65536
    with pytest.raises(ValueError, match="too small"):
        render_plan_comments(Plan(), limit=100)


def test_risks_come_first_and_names_cannot_inject_markdown_or_mentions():
    root = RootPlan(
        path="apps",
        kind="directory",
        deployed_by=[Deployer("Application", "argocd", "apps", "clusters/apps.yaml")],
    )
    key = ("", "PersistentVolumeClaim", "db", "data")
    root.objects = [
        ObjectDiff(DELETE, key, "-kind: PersistentVolumeClaim", risks=[Risk("deletion", "apps", key, "PVC deleted")]),
        ObjectDiff(
            UPDATE,
            ("apps", "Deployment", "db", "web"),
            "-  image: a\n+  image: b",
            risks=[Risk("image", "apps", key, "image [click](https://evil.invalid) → @org/admins")],
        ),
    ]
    plan = Plan(base="main", head="pr", roots=[root, RootPlan(path="legacy", kind="kustomize", status=NOT_RENDERED, reason="kustomize not found")])

    markdown = render_plan_markdown(plan)

    assert markdown.index("> [!WARNING]\n> **Risky changes (2)**\n> - `apps`: PVC deleted\n") < markdown.index("- `apps` `+0 ~1 -1`")
    assert "\\[click\\](https://evil.invalid) → @\u200borg/admins" in markdown
    assert "- `apps` `+0 ~1 -1` — deployed by Argo CD Application argocd/apps\n" in markdown
    assert "- `legacy` **not-rendered**\n" in markdown
    assert "**not-rendered**: kustomize not found\n" in markdown


def test_a_diff_holding_backticks_gets_a_longer_fence():
    root = RootPlan(path="x", kind="directory")
    root.objects = [ObjectDiff(UPDATE, ("", "ConfigMap", "", "docs"), "-  readme: ```old```\n+  readme: ```new```")]

    markdown = render_plan_markdown(Plan(roots=[root]))

    assert "````diff\n-  readme: ```old```\n+  readme: ```new```\n````\n" in markdown


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [3000, 7000, COMMENT_LIMIT])
def test_splitting_keeps_every_invariant_for_uneven_plans(seed: int, limit: int):
    import random

    rng = random.Random(seed)
    plan = Plan(base="a", head="b")
    for r in range(rng.randint(1, 6)):
        root = RootPlan(path=f"env-{r}/" + "&" * rng.randint(0, 250), kind="kustomize")
        if rng.random() < 0.2:
            root.status, root.reason = NOT_RENDERED, "reason " * rng.randint(1, 300)
        for o in range(rng.randint(0, 30)):
            key = ("", "ConfigMap", "ns", f"cm-{r}-{o}")
            risks = [Risk("deletion", root.path, key, "gone " * rng.randint(1, 50))] if rng.random() < 0.3 else []
            root.objects.append(ObjectDiff(DELETE, key, _diff(key[3], rng.choice([1, 5, 40, 400, 3000])), risks=risks))
        plan.roots.append(root)

    parts = render_plan_comments(plan, limit=limit)

    joined = "".join(parts)
    for number, part in enumerate(parts, start=1):
        assert len(part) <= limit
        assert _fences_balanced(part)
        assert part.count("<details") == part.count("</details>")
        if len(parts) > 1:
            assert part.startswith(f"## Plan (part {number} of {len(parts)})\n\n")
    for root in plan.roots:
        for obj in root.objects:
            assert joined.count(f"<summary>- delete ConfigMap ns/{obj.key[3]}</summary>") == 1
