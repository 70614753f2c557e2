"""Generate a realistic, deterministic GitOps corpus of Kubernetes manifests for benchmarks.

    python bench/generate_corpus.py --out /tmp/corpus --documents 5000 --files 500 --broken 0.05 --seed 1

Applications (Deployment + Service + ConfigMap + Ingress, StatefulSets, CronJobs, RBAC) are laid
out as a GitOps repository would be (apps/<team>/<app>/...), with some multi-document files and
about ``--broken`` of the documents damaged the ways people damage them: wrong types, unknown
fields, missing required fields and YAML syntax errors. The same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEAMS = ("payments", "search", "identity", "checkout", "platform", "data", "mobile", "growth")
WORDS = (
    "api", "web", "worker", "gateway", "cache", "indexer", "billing", "ledger", "auth", "profile",
    "notifier", "scheduler", "reporter", "catalog", "cart", "pricing", "inventory", "ingest", "export", "sync",
)  # fmt: skip
IMAGES = ("nginx", "redis", "postgres", "python", "node", "golang", "envoyproxy/envoy", "grafana/grafana")
ENVIRONMENTS = ("dev", "staging", "prod")
BREAKAGES = ("wrong-type", "unknown-field", "missing-required", "yaml-syntax")


@dataclass
class Document:
    """One manifest as data, plus how (if at all) it was broken; ``raw`` replaces the YAML when set."""

    obj: dict[str, Any]
    app_dir: str
    breakage: str = ""
    raw: str | None = None

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", "Unknown"))

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name", "unnamed"))

    def to_yaml(self) -> str:
        return self.raw if self.raw is not None else _dump(self.obj)


@dataclass
class Corpus:
    files: dict[str, list[Document]] = field(default_factory=dict)

    @property
    def documents(self) -> list[Document]:
        return [d for docs in self.files.values() for d in docs]


# ---------------------------------------------------------------- objects

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: 10x faster, same bytes


def _dump(obj: dict[str, Any]) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, width=120)


def _labels(app: str, team: str, env: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/part-of": team,
        "app.kubernetes.io/managed-by": "argocd",
        "environment": env,
    }


def _metadata(name: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": dict(labels)}
    if rng.random() < 0.5:
        meta["annotations"] = {
            "owner": f"{labels['app.kubernetes.io/part-of']}@example.com",
            "argocd.argoproj.io/sync-wave": str(rng.randint(-2, 5)),
        }
    return meta


def _image(rng: random.Random) -> str:
    repo = rng.choice(IMAGES)
    roll = rng.random()
    if roll < 0.08:
        return f"{repo}:latest"  # realistic: some teams still do this (a policy finding, not a broken file)
    if roll < 0.15:
        return f"registry.example.com/{repo}@sha256:{rng.getrandbits(256):064x}"
    return f"registry.example.com/{repo}:{rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"


def _container(name: str, rng: random.Random, config_map: str, secret: str) -> dict[str, Any]:
    port = rng.choice((8080, 8000, 3000, 9000))
    env = [
        {"name": f"FEATURE_{i}_ENABLED", "value": rng.choice(("true", "false"))}
        for i in range(rng.randint(2, 8))
    ]
    env.append(
        {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": config_map, "key": "LOG_LEVEL"}}}
    )
    env.append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}})
    container: dict[str, Any] = {
        "name": name,
        "image": _image(rng),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "envFrom": [{"configMapRef": {"name": config_map}}],
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/app", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if rng.random() < 0.85:
        container["resources"] = {
            "requests": {
                "cpu": f"{rng.choice((50, 100, 250, 500))}m",
                "memory": f"{rng.choice((64, 128, 256))}Mi",
            },
            "limits": {
                "cpu": f"{rng.choice((500, 1000, 2000))}m",
                "memory": f"{rng.choice((256, 512, 1024))}Mi",
            },
        }
    if rng.random() < 0.8:
        probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 2}
        container["livenessProbe"] = {**probe, "initialDelaySeconds": 15, "failureThreshold": 3}
        container["readinessProbe"] = {**probe, "httpGet": {"path": "/ready", "port": "http"}}
    if rng.random() < 0.7:
        container["securityContext"] = {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
    return container


def _pod_spec(app: str, rng: random.Random, config_map: str, secret: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": app,
        "containers": [_container(app, rng, config_map, secret)],
        "volumes": [
            {"name": "config", "configMap": {"name": config_map}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "100Mi"}},
        ],
    }
    if rng.random() < 0.3:
        spec["containers"].append(_container(f"{app}-sidecar", rng, config_map, secret))
    if rng.random() < 0.3:
        spec["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
                        },
                    }
                ]
            }
        }
    return spec


def deployment(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": app}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(app, ns, labels, rng),
        "spec": {
            "replicas": rng.choice((1, 2, 3, 3, 5)),
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": _pod_spec(app, rng, f"{app}-config", f"{app}-db"),
            },
        },
    }


def stateful_set(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(app, ns, labels, rng),
        "spec": {
            "serviceName": app,
            "replicas": rng.choice((1, 3)),
            "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": _pod_spec(app, rng, f"{app}-config", f"{app}-db"),
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "standard",
                        "resources": {"requests": {"storage": f"{rng.choice((1, 5, 20, 100))}Gi"}},
                    },
                }
            ],
        },
    }


def cron_job(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    pod = _pod_spec(app, rng, f"{app}-config", f"{app}-db")
    pod["restartPolicy"] = "OnFailure"
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(f"{app}-nightly", ns, labels, rng),
        "spec": {
            "schedule": f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * *",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {"backoffLimit": 2, "template": {"metadata": {"labels": dict(labels)}, "spec": pod}}
            },
        },
    }


def service(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(app, ns, labels, rng),
        "spec": {
            "type": rng.choice(("ClusterIP", "ClusterIP", "ClusterIP", "NodePort")),
            "selector": {"app.kubernetes.io/name": app},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def config_map(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    data = {"LOG_LEVEL": rng.choice(("info", "debug", "warn"))}
    data.update({f"SETTING_{i}": f"value-{rng.randint(0, 9999)}" for i in range(rng.randint(3, 20))})
    data["app.properties"] = (
        "\n".join(f"key.{i}={rng.randint(0, 100)}" for i in range(rng.randint(2, 10))) + "\n"
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(f"{app}-config", ns, labels, rng),
        "data": data,
    }


def ingress(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    host = f"{app}.{ns}.example.com"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(app, ns, labels, rng),
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [host], "secretName": f"{app}-tls"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": app, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def service_account(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(app, ns, labels, rng)}


def role(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    resources = rng.sample(
        ("configmaps", "secrets", "pods", "services", "endpoints", "events"), k=rng.randint(1, 4)
    )
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(f"{app}-reader", ns, labels, rng),
        "rules": [{"apiGroups": [""], "resources": resources, "verbs": ["get", "list", "watch"]}],
    }


def role_binding(app: str, ns: str, labels: dict[str, str], rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(f"{app}-reader", ns, labels, rng),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{app}-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}],
    }


Builder = Callable[[str, str, dict[str, str], random.Random], dict[str, Any]]

# Application shapes and how often they occur; each yields the documents one app directory holds.
SHAPES: tuple[tuple[float, tuple[Builder, ...]], ...] = (
    (0.55, (deployment, service, config_map, ingress, service_account, role, role_binding)),
    (0.20, (deployment, service, config_map, service_account)),
    (0.15, (stateful_set, service, config_map, service_account)),
    (0.10, (cron_job, config_map, service_account, role, role_binding)),
)


def generate_documents(count: int, rng: random.Random) -> list[Document]:
    docs: list[Document] = []
    serial = 0
    while len(docs) < count:
        serial += 1
        team = rng.choice(TEAMS)
        env = rng.choice(ENVIRONMENTS)
        app = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{serial}"
        ns = f"{team}-{env}"
        labels = _labels(app, team, env)
        builders = rng.choices([s for _, s in SHAPES], weights=[w for w, _ in SHAPES])[0]
        app_dir = f"apps/{team}/{env}/{app}"
        docs.extend(Document(build(app, ns, labels, rng), app_dir) for build in builders)
    return docs[:count]


# ---------------------------------------------------------------- breakage


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get(
        "template", {}
    ).get("spec")
    return pod.get("containers") if isinstance(pod, dict) else None


def _wrong_type(obj: dict[str, Any], rng: random.Random) -> bool:
    """A string where a number, list or map belongs (or the reverse): the most common hand edit slip."""
    kind, spec, containers = obj["kind"], obj.get("spec", {}), _containers(obj)
    if "replicas" in spec:
        spec["replicas"] = rng.choice(("three", "2x", "many"))
    elif containers:
        containers[0]["ports"][0]["containerPort"] = "http-port"
    elif kind == "Service":
        spec["ports"][0]["port"] = "eighty"
    elif kind == "ConfigMap":
        obj["data"]["SETTING_0"] = {"nested": True}
    elif kind == "Role":
        obj["rules"][0]["verbs"] = "get"
    elif kind == "RoleBinding":
        obj["subjects"] = obj["subjects"][0]
    elif kind == "Ingress":
        spec["rules"][0]["http"]["paths"] = {"path": "/"}
    elif kind == "ServiceAccount":
        obj["automountServiceAccountToken"] = "maybe"
    else:
        return False
    return True


def _missing_required(obj: dict[str, Any], rng: random.Random) -> bool:
    kind, spec, containers = obj["kind"], obj.get("spec", {}), _containers(obj)
    if kind == "Deployment" and rng.random() < 0.5:
        del spec["selector"]
    elif containers:
        del containers[0]["name"]
    elif kind == "Service":
        del spec["ports"][0]["port"]
    elif kind == "RoleBinding":
        del obj["roleRef"]
    elif kind == "Role":
        del obj["rules"][0]["verbs"]
    elif kind == "Ingress":
        del spec["rules"][0]["http"]["paths"][0]["pathType"]
    else:
        return False
    return True


def _unknown_field(obj: dict[str, Any], rng: random.Random) -> bool:
    containers = _containers(obj)
    target = containers[0] if containers else obj.get("spec", obj["metadata"])
    target[rng.choice(("imagePullPolice", "replica", "livenesProbe", "resource", "labelz"))] = "oops"
    return True


def _yaml_syntax(doc: Document, rng: random.Random) -> None:
    text = _dump(doc.obj).splitlines()
    at = rng.randint(2, max(2, len(text) - 1))
    text.insert(at, rng.choice(("  image: [unclosed", "\tbad: tab", "  key: value: other", '  name: "open')))
    doc.raw = "\n".join(text) + "\n"


def break_document(doc: Document, how: str, rng: random.Random) -> None:
    """Damage ``doc`` the way ``how`` says; a kind with no such spot gets an unknown field instead."""
    doc.breakage = how
    if how == "yaml-syntax":
        _yaml_syntax(doc, rng)
    elif how == "wrong-type" and _wrong_type(doc.obj, rng):
        pass
    elif how == "missing-required" and _missing_required(doc.obj, rng):
        pass
    else:
        doc.breakage = "unknown-field"
        _unknown_field(doc.obj, rng)


# ---------------------------------------------------------------- files


def split_sizes(total: int, parts: int, rng: random.Random) -> list[int]:
    """``parts`` positive sizes summing to ``total``: mostly single documents, some long multi-doc files."""
    parts = max(1, min(parts, total))
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


def build_corpus(documents: int, files: int, broken: float, seed: int) -> Corpus:
    rng = random.Random(seed)
    docs = generate_documents(documents, rng)
    for doc in rng.sample(docs, k=round(len(docs) * broken)):
        break_document(doc, rng.choice(BREAKAGES), rng)
    corpus = Corpus()
    start = 0
    for size in split_sizes(len(docs), files, rng):
        chunk = docs[start : start + size]
        start += size
        first = chunk[0]
        if len({d.app_dir for d in chunk}) > 1:
            # Several applications in one file: what a rendered "all-in-one" bundle per environment looks like.
            folder, stem = "clusters/" + first.app_dir.split("/")[2], f"bundle-{len(corpus.files):04d}"
        else:
            folder, stem = first.app_dir, (f"{first.kind.lower()}-{first.name}" if size == 1 else first.name)
        path = f"{folder}/{stem}.yaml"
        n = 2
        while path in corpus.files:
            path = f"{folder}/{stem}-{n}.yaml"
            n += 1
        corpus.files[path] = chunk
    return corpus


def write_corpus(corpus: Corpus, out: Path) -> None:
    for path, docs in corpus.files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("---\n".join(d.to_yaml() for d in docs), encoding="utf-8")


def describe(corpus: Corpus) -> str:
    docs = corpus.documents
    kinds = Counter(d.kind for d in docs)
    broken = Counter(d.breakage for d in docs if d.breakage)
    multi = sum(1 for ds in corpus.files.values() if len(ds) > 1)
    return "\n".join(
        [
            f"documents: {len(docs)} in {len(corpus.files)} files ({multi} multi-document)",
            "kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()),
            f"broken: {sum(broken.values())} ("
            + ", ".join(f"{k} {n}" for k, n in sorted(broken.items()))
            + ")",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", required=True, type=Path, help="directory to write (created; files are overwritten)"
    )
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--broken", type=float, default=0.05, help="fraction of documents to damage")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.documents < 1 or args.files < 1 or not 0 <= args.broken <= 1:
        parser.error("--documents and --files must be >= 1 and --broken within 0..1")
    corpus = build_corpus(args.documents, args.files, args.broken, args.seed)
    write_corpus(corpus, args.out)
    print(f"wrote {args.out}")
    print(describe(corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
