"""`gitops-bot plan`: the plan of a local change, as markdown or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.errors import GitOpsBotError
from bot.plan.build import plan_change
from bot.plan.markdown import render_plan_markdown
from bot.pull.local import LocalPullContext, git_root

FORMATS = ("markdown", "json")


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="only roots under these paths (default: all)")
    parser.add_argument("--base", required=True, metavar="REF", help="git ref the change is compared with")
    parser.add_argument("--head", metavar="REF", help="git ref of the change (default: the working tree)")
    parser.add_argument("-f", "--format", default="markdown", choices=FORMATS, help="output format (default: markdown)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the plan to FILE instead of standard output")


def run_plan_command(args: argparse.Namespace) -> str:
    """The plan's text; the exit code is always 0 when it could be built (a plan judges nothing)."""
    from bot.plan.local import RefsPullContext

    paths = args.paths or ["."]
    for p in paths:
        if not Path(p).exists():
            raise GitOpsBotError(f"{p}: no such file or directory")
    root = git_root(paths[0])
    scopes = [s for s in (_relative(p, root) for p in paths) if s != "."]
    ctx = RefsPullContext(root, args.base, args.head) if args.head else LocalPullContext(root, args.base)
    ctx.base_sha()  # an unknown ref is a usage error before any work
    plan = plan_change(ctx, scopes=scopes)
    if args.format == "json":
        return json.dumps(plan.to_json(), indent=2)
    return render_plan_markdown(plan)


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise GitOpsBotError(f"{path}: outside the git repository {root}") from None
