"""gitops-policy-bot: validate GitOps Kubernetes manifests before they reach the reconciler."""

__version__ = "0.1.0"
