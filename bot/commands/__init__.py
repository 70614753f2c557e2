"""Comment commands (`/gitops ...`): parsing, who may run them, and approvals; no GitHub types."""
