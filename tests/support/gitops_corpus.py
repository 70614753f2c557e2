"""Generated GitOps repositories of any size, for request-count tests and the PR-cost benchmark."""

from __future__ import annotations

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      automountServiceAccountToken: false
      securityContext: {{runAsNonRoot: true}}
      containers:
        - name: {name}
          image: registry.example.com/{name}:{tag}
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}}
          livenessProbe: {{httpGet: {{path: /healthz, port: 8080}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
            requests: {{cpu: 100m, memory: 128Mi}}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {name}
spec:
  selector: {{app: {name}}}
  ports:
    - port: 80
      targetPort: 8080
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-settings-{index}
  namespace: {name}
data:
  level: info
"""
KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{resources}
patches:
  - path: replicas-patch.yaml
"""
PATCH = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {name}
spec:
  replicas: 3
"""


def app_name(index: int) -> str:
    return f"app{index:05d}"


def gitops_repo(documents: int, *, kustomize: bool, docs_per_app: int = 10, tag: str = "1.0.0",
                changed: tuple[int, ...] = ()) -> dict[str, bytes]:
    """About ``documents`` Kubernetes documents in apps of ``docs_per_app`` each (a kustomization per app).

    Apps whose index is in ``changed`` get image tag ``tag + "-next"``: one changed file each.
    """
    files: dict[str, bytes] = {"README.md": b"generated GitOps repository\n"}
    for index in range(max(1, documents // docs_per_app)):
        name = app_name(index)
        directory = f"apps/{name}"
        app_tag = f"{tag}-next" if index in changed else tag
        files[f"{directory}/deployment.yaml"] = DEPLOYMENT.format(name=name, tag=app_tag).encode()
        files[f"{directory}/service.yaml"] = SERVICE.format(name=name).encode()
        extra = [f"settings-{i}.yaml" for i in range(docs_per_app - 2)]
        for i, file in enumerate(extra):
            files[f"{directory}/{file}"] = CONFIGMAP.format(name=name, index=i).encode()
        if kustomize:
            resources = "\n".join(f"  - {f}" for f in ["deployment.yaml", "service.yaml", *extra])
            files[f"{directory}/kustomization.yaml"] = KUSTOMIZATION.format(resources=resources).encode()
            files[f"{directory}/replicas-patch.yaml"] = PATCH.format(name=name).encode()
    return files


def changed_deployments(count: int, apps: int) -> tuple[int, ...]:
    """Indexes of ``count`` apps spread over ``apps``: the apps a generated pull request changes."""
    step = max(1, apps // max(1, count))
    return tuple(range(0, step * count, step))[:count]
