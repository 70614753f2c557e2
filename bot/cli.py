"""`gitops-bot`: the same verdict as the App, on your machine or in any CI.

Exit codes: 0 nothing blocking, 1 blocking findings (or failing policy tests),
2 usage, configuration or input error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Finding, Severity
from bot.core.rego.engine import DEFAULT_ENGINE, ENGINES
from bot.core.renderer import Renderer
from bot.core.report import Report
from bot.core.schemas import DEFAULT_KUBERNETES_VERSION
from bot.core.schemas.catalog import CatalogAccess
from bot.core.workspace import Workspace
from bot.errors import ConfigError, GitOpsBotError
from bot.pull.context import ChangedFile, PullContext

EXIT_OK, EXIT_BLOCKING, EXIT_USAGE = 0, 1, 2
ENGINE_CHOICES = (*ENGINES, "opa-server")
SEVERITY_CHOICES = ("error", "warning", "notice")
COMPLETION_SHELLS = ("bash", "zsh", "fish")
STDIN = "-"
STDIN_LABEL = "<stdin>"
# The name the standard-input stream gets inside the evaluation, so the usual include globs match it.
_STDIN_FILE = "stdin.yaml"


def build_parser() -> argparse.ArgumentParser:
    from bot import reporters

    parser = argparse.ArgumentParser(prog="gitops-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gitops-bot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="validate manifests against schemas and policies")
    check.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH",
        help="directories or files (default: .); - reads a manifest stream from standard input",
    )
    check.add_argument("--base", metavar="REF", help="judge only what changed since this git ref (like a pull request)")
    check.add_argument("--all", action="store_true", help="with --base: findings already on the base branch block too")
    check.add_argument("--strict", action="store_true", default=None, help="unknown fields are errors")
    check.add_argument(
        "--kubernetes-version", metavar="X.Y",
        help=f"Kubernetes version of the schemas (default: {DEFAULT_KUBERNETES_VERSION})",
    )
    check.add_argument("--config", metavar="FILE", help="use this file instead of the repository's .gitops-bot.yaml")
    check.add_argument("--policy", action="append", default=[], metavar="DIR", help="extra Rego policy directory (repeatable)")
    check.add_argument(
        "--engine", choices=ENGINE_CHOICES,
        help=f"Rego engine (default: {DEFAULT_ENGINE}; opa: the [opa] extra; opa-server: $OPA_URL)",
    )
    check.add_argument("--no-policies", action="store_true", help="schema validation only")
    check.add_argument(
        "--schema-location", action="append", default=[], metavar="TEMPLATE",
        help="kubeconform-style schema location for custom resources: a directory or http(s) URL template (repeatable)",
    )
    check.add_argument("-f", "--format", default="text", choices=reporters.FORMATS, help="output format (default: text)")
    check.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    check.add_argument(
        "--min-severity", choices=SEVERITY_CHOICES, default="notice",
        help="report only findings at or above this severity (default: notice; the exit code still counts all)",
    )
    check.add_argument("--fail-on-warn", action="store_true", help="warnings block too (exit 1)")
    check.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    check.add_argument("--verbose", "-v", action="store_true", help="list skipped files")
    check.add_argument(
        "--jobs", "-j", type=_jobs, metavar="N", help="processes for a whole-tree check (default: usable cores)"
    )

    from bot.plan.command import add_plan_arguments

    add_plan_arguments(sub.add_parser("plan", help="show what the reconciler will change, object by object"))

    test = sub.add_parser("test-policies", help="run the test_ rules of *_test.rego files (like `opa test`) and Gatekeeper suites (like `gator verify`)")
    test.add_argument("dirs", nargs="*", metavar="DIR", help="policy directories (default: the built-in library)")
    test.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
    test.add_argument("-f", "--format", choices=("text", "json"), default="text")
    test.add_argument("--verbose", "-v", action="store_true", help="list passing tests too")

    completion = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)")
    completion.add_argument("shell", choices=COMPLETION_SHELLS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "plan":
            return run_plan(args)
        if args.command == "completion":
            return run_completion(parser, args.shell)
        return run_test_policies(args)
    except GitOpsBotError as e:
        print(f"gitops-bot: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _options(args: argparse.Namespace) -> EvalOptions:
    from bot.backends import edge_backends
    from bot.core.schemas.registry import normalize_version

    config_bytes = None
    if args.config:
        try:
            config_bytes = Path(args.config).read_bytes()
        except OSError as e:
            raise GitOpsBotError(f"--config {args.config}: {e.strerror}") from None
    for d in args.policy:
        if not Path(d).is_dir():
            raise GitOpsBotError(f"--policy {d}: not a directory")
    if args.kubernetes_version:
        try:
            normalize_version(args.kubernetes_version)
        except ConfigError as e:
            raise GitOpsBotError(f"--kubernetes-version: {e}") from None
    schema_catalog = _schema_catalog(getattr(args, "schema_location", []))
    return EvalOptions(
        kubernetes_version=args.kubernetes_version,
        strict=args.strict,
        engine=args.engine,
        extra_policy_dirs=tuple(str(Path(d).resolve()) for d in args.policy),
        policies=not args.no_policies,
        config_bytes=config_bytes,
        # Absolute, so that findings about it survive the relative-to-cwd rewrite; shown as typed below.
        config_path=str(Path(args.config).resolve()) if args.config else "",
        backends=edge_backends(os.environ),
        report_mode="all" if args.all else None,
        schema_catalog=schema_catalog,
        renderer=_renderer(),
        max_rendered_roots=_max_rendered_roots(),
    )


def _renderer() -> Renderer:
    """kustomize roots (and Helm charts, when switched on) are judged as rendered; renders cached per user on disk."""
    from bot.github.content_cache import DiskStore
    from bot.plan.verdict_renderer import RENDER_CACHE_BYTES, renderer_from_environ

    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    try:
        store = DiskStore(Path(base) / "gitops-bot" / "renders", RENDER_CACHE_BYTES)
    except OSError as e:  # renders still run, each one again: say so once
        print(f"gitops-bot: render cache {base}/gitops-bot/renders unusable ({e.strerror or e}): "
              "every root is rendered again", file=sys.stderr)
        store = None
    return renderer_from_environ(os.environ, store)


def _max_rendered_roots() -> int:
    from bot.core.rendered import DEFAULT_MAX_RENDERED_ROOTS
    from bot.plan.verdict_renderer import max_rendered_roots

    return max_rendered_roots(os.environ, DEFAULT_MAX_RENDERED_ROOTS)  # a bad value: ConfigError, exit 2


def _refuse_format_as_output(args: argparse.Namespace, formats: Sequence[str]) -> None:
    """``-o json`` used to mean the format; now it is a file, so a format name there is almost surely a slip."""
    if args.output and args.output.strip().lower() in formats:
        raise GitOpsBotError(
            f"--output {args.output}: -o/--output is the file to write; for the format use -f/--format "
            f"{args.output} (to write a file with that name, say ./{args.output})"
        )


def _schema_catalog(locations: Sequence[str]) -> CatalogAccess:
    """--schema-location flags first, then the config's schemaLocations; remote schemas cached per user."""
    from bot.backends.schema_catalog import catalog_access, default_cache_dir
    from bot.core.schemas.catalog import check_location

    for location in locations:
        try:
            check_location(location)
        except GitOpsBotError as e:
            raise GitOpsBotError(f"--schema-location: {e}") from None
    return catalog_access(tuple(locations), default_cache_dir(os.environ), repository_may_add=True)


def run_check(args: argparse.Namespace) -> int:
    from bot import reporters

    _refuse_format_as_output(args, reporters.FORMATS)
    options = _options(args)
    if STDIN in args.paths and (len(args.paths) > 1 or args.base):
        raise GitOpsBotError("-: standard input is checked on its own (no other PATH, no --base)")
    for p in args.paths:
        if p != STDIN and not Path(p).exists():
            raise GitOpsBotError(f"{p}: no such file or directory")
    status = _Status(enabled=sys.stderr.isatty() and args.format == "text" and not args.output and not args.quiet)
    reports = []
    if args.base:
        reports.append(_check_change(args.base, args.paths, options, status))
    elif args.paths == [STDIN]:
        reports.append(_check_stdin(options))
    else:
        for path in args.paths:
            reports.append(_check_path(Path(path), options, status, args.jobs))
    status.clear()
    report = _merge(reports)
    if args.config:
        report.findings = [f.with_(file=args.config) if f.file == options.config_path else f for f in report.findings]
    config_errors = [f for f in report.findings if f.rule == "config/invalid" and not report.policy_changes]
    if config_errors:
        for f in config_errors:
            where = f"{f.file}:{f.line}: " if f.line else (f"{f.file}: " if f.file else "")
            print(f"gitops-bot: {where}{f.message}", file=sys.stderr)
        return EXIT_USAGE
    exit_code = report.exit_code(fail_on_warn=args.fail_on_warn)  # judged on every finding, whatever is shown
    shown = _at_or_above(report, Severity.parse(args.min_severity))
    color = sys.stdout.isatty() and not args.output and "NO_COLOR" not in os.environ
    if args.output or not args.quiet:
        text = reporters.get(args.format, color=color, verbose=args.verbose).render(shown)
        _write(text, args.output)
    if args.quiet:
        from bot.reporters.text import verdict_line

        print(verdict_line(shown))
    return exit_code


def _at_or_above(report: Report, threshold: Severity) -> Report:
    """The report as shown under ``--min-severity``, with a note of how much it leaves out."""
    kept = [f for f in report.findings if f.severity >= threshold]
    hidden = len(report.findings) - len(kept)
    if not hidden:
        return report
    shown = dataclasses.replace(report, findings=kept, notices=list(report.notices))
    shown.notices.append(f"{hidden} finding(s) below {threshold.label} not shown (--min-severity {threshold.label})")
    return shown


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text)
        except OSError as e:
            raise GitOpsBotError(f"--output {output}: {e.strerror}") from None
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _check_stdin(options: EvalOptions) -> Report:
    """A manifest stream (``kustomize build … | gitops-bot check -``), judged with the current directory's config."""
    data = sys.stdin.buffer.read()
    head = Workspace.from_dict({_STDIN_FILE: data}, label=STDIN_LABEL)
    cwd = Path.cwd()
    trusted = None
    if options.config_bytes is None and any((cwd / n).is_file() for n in (".gitops-bot.yaml", ".gitops-bot.yml")):
        trusted = Workspace.from_directory(cwd)  # its config and policy directories judge the stream
    report = evaluate(head, trusted=trusted, options=options)
    report.findings = [f.with_(file=STDIN_LABEL) if f.file == _STDIN_FILE else f for f in report.findings]
    report.notices = [n.replace(_STDIN_FILE, STDIN_LABEL) for n in report.notices]
    return report


def _check_path(path: Path, options: EvalOptions, status: _Status, jobs: int | None = None) -> Report:
    status.show(f"checking {path} …")
    if path.is_dir():
        from bot.core.parallel import default_jobs, evaluate_tree

        report = evaluate_tree(Workspace.from_directory(path), options, jobs=jobs or default_jobs(), root=path)
        return _relative_to_cwd(report, path)
    root = path.parent
    scoped = dataclasses.replace(options, changed_paths=[path.name])
    return _relative_to_cwd(evaluate(Workspace.from_directory(root), options=scoped), root)


def _check_change(base_ref: str, paths: Sequence[str], options: EvalOptions, status: _Status) -> Report:
    from bot.pull.evaluate import evaluate_change
    from bot.pull.local import LocalPullContext, git_root

    root = git_root(paths[0] if paths else ".")
    status.show(f"checking changes since {base_ref} …")
    scopes = [Path(p).resolve().relative_to(root.resolve()).as_posix() for p in paths]
    ctx = _ScopedContext(LocalPullContext(root, base_ref), [s for s in scopes if s != "."])
    return _relative_to_cwd(evaluate_change(ctx, options), root)


class _ScopedContext:
    """Limit a change to the PATH arguments given with --base (a `PullContext` around another)."""

    def __init__(self, ctx: PullContext, scopes: list[str]) -> None:
        self._ctx, self._scopes = ctx, scopes

    def head_sha(self) -> str:
        return self._ctx.head_sha()

    def base_sha(self) -> str | None:
        return self._ctx.base_sha()

    def workspace(self, sha: str) -> Workspace:
        return self._ctx.workspace(sha)

    def changed_files(self) -> list[ChangedFile]:
        files = self._ctx.changed_files()
        if not self._scopes:
            return files
        return [f for f in files if any(f.path == s or f.path.startswith(s.rstrip("/") + "/") for s in self._scopes)]


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of processes, 1 or more")
    return int(text)


def _relative_to_cwd(report: Report, root: Path) -> Report:
    prefix = os.path.relpath(root.resolve(), Path.cwd())

    def rel(file: str) -> str:
        return file if not file or prefix == "." else Path(prefix, file).as_posix()

    report.findings = [f.with_(file=rel(f.file)) for f in report.findings]
    report.notices = [n.replace("skipped ", f"skipped {prefix}/", 1) if prefix != "." else n for n in report.notices]
    for change in report.policy_changes:
        change["file"] = rel(change.get("file", ""))
    return report


def _merge(reports: list[Report]) -> Report:
    if len(reports) == 1:
        return reports[0]
    merged = Report(kubernetes_version=reports[0].kubernetes_version if reports else "")
    seen: set[Finding] = set()
    for r in reports:
        merged.findings.extend(f for f in r.findings if f not in seen)
        seen.update(r.findings)
        merged.files_checked += r.files_checked
        merged.resources_checked += r.resources_checked
        merged.deleted.extend(r.deleted)
        merged.notices.extend(r.notices)
        merged.policy_changes.extend(r.policy_changes)
        for k, v in r.timings.items():
            merged.timings[k] = merged.timings.get(k, 0) + v
    return merged


class _Status:
    """A one-line progress note on a terminal's stderr; silent when piped."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def show(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K" + text)
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def run_plan(args: argparse.Namespace) -> int:
    from bot.plan.command import FORMATS, run_plan_command

    _refuse_format_as_output(args, FORMATS)
    _write(run_plan_command(args), args.output)
    return EXIT_OK


def run_completion(parser: argparse.ArgumentParser, shell: str) -> int:
    """Completion scripts generated from the parser itself (shtab), so they never drift from the flags."""
    import shtab

    sys.stdout.write(shtab.complete(parser, shell=shell))
    return EXIT_OK


def run_test_policies(args: argparse.Namespace) -> int:
    from bot.core.gatekeeper.suites import run_gatekeeper_suites
    from bot.core.rego.sources import builtin_policy_dir
    from bot.core.rego.testing import run_policy_tests

    dirs = args.dirs or [str(builtin_policy_dir())]
    for d in dirs:
        if not Path(d).is_dir():
            raise GitOpsBotError(f"{d}: not a directory")
    results = run_policy_tests(dirs, engine=args.engine)
    results += run_gatekeeper_suites(dirs, engine=args.engine)
    failed = [r for r in results if not r.passed]
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    else:
        for r in results:
            if args.verbose or not r.passed:
                mark = "PASS" if r.passed else "FAIL"
                print(f"{mark}  {r.file}: {r.package}.{r.name}{'  ' + r.error if r.error else ''}")
        print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if not results:
        print(f"gitops-bot: no test_ rules or gatekeeper suites found in {', '.join(dirs)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_BLOCKING if failed else EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
