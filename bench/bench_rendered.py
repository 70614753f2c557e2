"""Rendering cost of the rendered verdict on a corpus shaped as 50 kustomize roots, cold and cached.

    .venv/bin/python bench/bench_rendered.py [--roots 50] [--repeat 3]

Each app has a base (Deployment + Service) and two overlays (patch, images, namePrefix, a
configMapGenerator), all sharing one hardening component: 50 roots is 25 apps. Prints the
kustomize builds, render-stage seconds cold (new renderer), cached in memory (same renderer,
same bytes), cached on disk (a new renderer — as a new process — over the disk cache the cold
pass filled: no kustomize runs), and a whole `evaluate` with and without rendering.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.evaluate import EvalOptions, evaluate  # noqa: E402
from bot.core.rendered import render_roots  # noqa: E402
from bot.core.workspace import Workspace  # noqa: E402
from bot.core.yamlpos import DEFAULT_LIMITS  # noqa: E402
from bot.github.content_cache import DiskStore  # noqa: E402
from bot.plan.verdict_renderer import KustomizeRenderer  # noqa: E402

BASE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec:
      containers:
        - name: {app}
          image: ghcr.io/acme/{app}:1.0.{n}
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
spec:
  selector: {{app: {app}}}
  ports: [{{port: 80}}]
"""
COMPONENT = """apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - path: hardening.yaml
    target: {kind: Deployment}
"""
HARDENING = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: any
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
"""
OVERLAY = """namespace: {env}
namePrefix: {env}-
resources: [../../base]
components: [../../../../components/hardening]
patches:
  - path: replicas.yaml
images:
  - name: ghcr.io/acme/{app}
    newTag: 1.1.{n}
configMapGenerator:
  - name: {app}-settings
    literals: [ENV={env}]
"""
PATCH = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
spec:
  replicas: 3
"""


def write_corpus(root: Path, roots: int) -> None:
    (root / "components/hardening").mkdir(parents=True)
    (root / "components/hardening/kustomization.yaml").write_text(COMPONENT)
    (root / "components/hardening/hardening.yaml").write_text(HARDENING)
    for n in range((roots + 1) // 2):
        app = f"app{n:02d}"
        base = root / "apps" / app / "base"
        base.mkdir(parents=True)
        (base / "objects.yaml").write_text(BASE.format(app=app, n=n))
        (base / "kustomization.yaml").write_text("resources: [objects.yaml]\n")
        for env in ("staging", "production")[: min(2, roots - 2 * n)]:
            overlay = root / "apps" / app / "overlays" / env
            overlay.mkdir(parents=True)
            (overlay / "kustomization.yaml").write_text(OVERLAY.format(app=app, env=env, n=n))
            (overlay / "replicas.yaml").write_text(PATCH.format(app=app))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roots", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rendered-") as tmp:
        write_corpus(Path(tmp) / "repo", args.roots)
        ws = Workspace.from_directory(Path(tmp) / "repo")
        cold, cached, on_disk, objects = [], [], [], 0
        for i in range(args.repeat):
            store = DiskStore(Path(tmp) / f"cache-{i}")
            renderer = KustomizeRenderer(store=store)
            start = time.perf_counter()
            rendered = render_roots(ws, renderer, None, DEFAULT_LIMITS, args.roots)
            cold.append(time.perf_counter() - start)
            objects, builds = len(rendered.objects), renderer.builds
            start = time.perf_counter()
            render_roots(ws, renderer, None, DEFAULT_LIMITS, args.roots)
            cached.append(time.perf_counter() - start)
            assert renderer.builds == builds, "the cached pass built again"
            fresh = KustomizeRenderer(store=store)
            start = time.perf_counter()
            render_roots(ws, fresh, None, DEFAULT_LIMITS, args.roots)
            on_disk.append(time.perf_counter() - start)
            assert fresh.builds == 0, "the disk-cached pass built again"
        options = EvalOptions(renderer=KustomizeRenderer(), max_rendered_roots=args.roots)
        with_render = _timed(lambda: evaluate(ws, options=options))
        without = _timed(lambda: evaluate(ws, options=EvalOptions()))
    print(f"corpus: {args.roots} kustomize roots, {objects} rendered objects, {builds} kustomize builds per cold pass")
    print(f"render stage cold:   median {statistics.median(cold):.2f} s  ({statistics.median(cold) / args.roots * 1000:.0f} ms/root)")
    print(f"render stage cached: median {statistics.median(cached) * 1000:.1f} ms (content hash of every file a root reads)")
    print(f"render stage disk:   median {statistics.median(on_disk) * 1000:.1f} ms (new renderer, the cold pass's disk cache)")
    print(f"evaluate whole tree: {with_render:.2f} s rendered, {without:.2f} s file by file")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
