"""Pay a worker's start-up cost before its first delivery: imports, Kubernetes schemas, built-in policies."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

# Common kinds, so their schema validators are compiled; the Deployment also exercises every built-in rule family.
_SAMPLE = {
    "warm-up/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata: {name: warm-up, namespace: warm-up}
spec:
  selector: {matchLabels: {app: warm-up}}
  template:
    metadata: {labels: {app: warm-up}}
    spec:
      containers:
        - name: app
          image: registry.example.com/warm-up:1.0.0
""",
    "warm-up/objects.yaml": """apiVersion: v1
kind: Service
metadata: {name: warm-up, namespace: warm-up}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: warm-up, namespace: warm-up}
data: {a: b}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: warm-up, namespace: warm-up}
spec: {rules: [{host: warm-up.example.com}]}
""",
}


def warm_up() -> float:
    """Import the evaluation path and run one evaluation of a sample, so compiled schemas and the built-in
    policy set are cached in this process (and in this thread's policy cache). Returns the seconds spent.

    A failure here is logged loudly but does not stop the worker: the first delivery will hit the same
    error and report it on its check run, where the repository's people see it.
    """
    start = time.perf_counter()
    try:
        import github  # noqa: F401  (PyGithub: a large import the first API call would otherwise pay)

        import bot.app.service  # noqa: F401
        import bot.reporters.github_check  # noqa: F401
        from bot.core.evaluate import evaluate
        from bot.core.workspace import Workspace

        evaluate(Workspace.from_dict(dict(_SAMPLE), label="warm-up"))
    except Exception:  # noqa: BLE001 - reported, and the first delivery reports it again
        log.exception("worker warm-up failed; the first delivery will pay its start-up cost")
    elapsed = time.perf_counter() - start
    log.info("worker warmed up in %.2f s (schemas and built-in policies compiled)", elapsed)
    return elapsed

