"""Manifests shared by the plan tests: a base with two overlays deployed by Argo CD and Flux."""

from __future__ import annotations

BASE_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: {image}
"""

KUSTOMIZE_REPO = {
    "base/kustomization.yaml": """
        resources:
          - deployment.yaml
          - service.yaml
    """,
    "base/deployment.yaml": BASE_DEPLOYMENT.format(replicas=2, image="nginx:1.25"),
    "base/service.yaml": """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector: {app: web}
          ports: [{port: 80}]
    """,
    "overlays/staging/kustomization.yaml": """
        namespace: staging
        resources:
          - ../../base
    """,
    "overlays/prod/kustomization.yaml": """
        namespace: prod
        resources:
          - ../../base
          - pvc.yaml
        patches:
          - path: replicas.yaml
    """,
    "overlays/prod/replicas.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 5
    """,
    "overlays/prod/pvc.yaml": """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: data
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Gi}}
    """,
    "clusters/argo/prod.yaml": """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata:
          name: web-prod
          namespace: argocd
        spec:
          project: default
          source:
            repoURL: https://example.invalid/gitops.git
            path: overlays/prod
          destination: {server: https://kubernetes.default.svc, namespace: prod}
    """,
    "clusters/flux/staging.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: web-staging
          namespace: flux-system
        spec:
          path: ./overlays/staging
          sourceRef: {kind: GitRepository, name: gitops}
    """,
}
