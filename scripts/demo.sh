#!/usr/bin/env bash
# Install the CLI and print the verdict the bot would post for the bundled sample GitOps repository.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q -e .
exec .venv/bin/gitops-bot check fixtures/sample-repo "$@"
