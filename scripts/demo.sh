#!/usr/bin/env bash
# Install the CLI as users get it (a regular, non-editable install: the built wheel, with its policy library)
# and print the verdict the bot would post for the bundled sample GitOps repository.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# --force-reinstall replaces an editable install left by scripts/test.sh; dependencies already there are kept.
.venv/bin/pip install -q .
.venv/bin/pip install -q --force-reinstall --no-deps .
exec .venv/bin/gitops-bot check fixtures/sample-repo "$@"
