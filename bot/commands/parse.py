"""Find `/gitops ...` lines in a comment and split them into commands, the way a reader of the comment sees them.

Only lines a reviewer sees as plain text count: lines in fenced or indented
code, quotes (``>``) and HTML comments (hidden on GitHub) are skipped, so
quoting or hiding a command never runs it.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from bot.commands.spec import APPROVE, BY_NAME, DEFAULT_COMMAND_PREFIX, HELP, PLAN, VALIDATE, CommandSpec

MAX_COMMANDS_PER_COMMENT = 10  # more is a paste accident; the rest are reported, not run
MAX_LINE_CHARS = 2000
MAX_REASON_CHARS = 500

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SHA = re.compile(r"[0-9a-f]{7,40}")
_APPROVE_OPTIONS = {"--reason": '"accepted until the migration"', "--sha": "1a2b3c4"}


@dataclass(frozen=True)
class Command:
    spec: CommandSpec
    args: tuple[str, ...] = ()  # plan: paths; approve-policies: rule ids
    reason: str = ""  # approve-policies --reason
    sha: str = ""  # approve-policies --sha: the head commit the approver looked at
    line: str = ""  # the line as written, for replies

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class CommandProblem:
    """A line that starts with the prefix but is not a valid command; answered with a short reply."""

    line: str
    message: str
    suggestion: str = ""  # the closest valid command or option, "" when nothing is close


def command_lines(body: str, prefix: str = DEFAULT_COMMAND_PREFIX) -> list[str]:
    """The visible lines of ``body`` that start with ``prefix`` (followed by a space or the end of the line)."""
    return [line for line in _visible_lines(body) if _starts_with_prefix(line, prefix)]


def parse_comment(body: str, prefix: str = DEFAULT_COMMAND_PREFIX) -> list[Command | CommandProblem]:
    """Every command of the comment, in order; a bad line becomes a `CommandProblem`, never an exception."""
    out: list[Command | CommandProblem] = []
    for line in command_lines(body, prefix):
        if len(out) == MAX_COMMANDS_PER_COMMENT:
            out.append(CommandProblem(line, f"at most {MAX_COMMANDS_PER_COMMENT} commands per comment are run"))
            break
        out.append(parse_line(line, prefix))
    return out


def parse_line(line: str, prefix: str = DEFAULT_COMMAND_PREFIX) -> Command | CommandProblem:
    if len(line) > MAX_LINE_CHARS:
        return CommandProblem(line[:80] + "…", f"the line is longer than {MAX_LINE_CHARS} characters")
    rest = line[len(prefix):]
    try:
        words = shlex.split(rest)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        return CommandProblem(line, f"cannot split the arguments: {str(exc).lower()}")
    if not words:
        return Command(HELP, line=line)
    name, args = words[0].lower(), words[1:]
    spec = BY_NAME.get(name)
    if spec is None:
        return CommandProblem(line, f"unknown command `{words[0]}`", _closest(name, list(BY_NAME)))
    if spec is APPROVE:
        return _approve(line, args)
    if spec is PLAN:
        return _plan(line, args)
    if spec is VALIDATE and args:
        return CommandProblem(line, f"`{spec.name}` takes no arguments")
    return Command(spec, line=line)


def _approve(line: str, args: list[str]) -> Command | CommandProblem:
    rules: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, has_value, value = arg.partition("=")
        if name in _APPROVE_OPTIONS:
            if not has_value:
                if i + 1 == len(args):
                    return CommandProblem(line, f"`{name}` needs a value, e.g. {name} {_APPROVE_OPTIONS[name]}")
                value, i = args[i + 1], i + 1
            options[name] = value
            i += 1
            continue
        if arg.startswith("-"):
            return CommandProblem(line, f"unknown option `{name}`", _closest(name, list(_APPROVE_OPTIONS), cutoff=0.4))
        rules.append(arg)
        i += 1
    reason = options.get("--reason")
    sha = options.get("--sha", "").lower()
    if "--sha" in options and not _SHA.fullmatch(sha):
        return CommandProblem(line, "`--sha` takes the head commit's id (7 to 40 hex digits)")
    if reason is None or not reason.strip():
        return CommandProblem(line, "an approval needs a reason: add --reason \"why these findings are acceptable\"")
    if len(reason) > MAX_REASON_CHARS:
        return CommandProblem(line, f"the reason is longer than {MAX_REASON_CHARS} characters")
    return Command(APPROVE, tuple(dict.fromkeys(rules)), " ".join(reason.split()), line=line, sha=sha)


def _plan(line: str, args: list[str]) -> Command | CommandProblem:
    for arg in args:
        if arg.startswith("-"):
            return CommandProblem(line, f"unknown option `{arg.split('=', 1)[0]}`: `plan` takes only paths")
        parts = arg.split("/")
        if arg.startswith("/") or ".." in parts:
            return CommandProblem(line, f"`{arg}` is not a path inside the repository")
    return Command(PLAN, tuple(a.strip("/") or "." for a in args), line=line)


def _closest(word: str, choices: list[str], cutoff: float = 0.6) -> str:
    """The closest choice; a command also answers to its first word ("aprove" -> approve-policies)."""
    aliases = {c: c for c in choices}
    aliases.update({c.split("-")[0]: c for c in choices if "-" in c.strip("-") and c.split("-")[0] not in aliases})
    match = difflib.get_close_matches(word, list(aliases), n=1, cutoff=cutoff)
    if not match:
        return ""
    found = aliases[match[0]]
    return BY_NAME[found].name if found in BY_NAME else found


def _starts_with_prefix(line: str, prefix: str) -> bool:
    return line.startswith(prefix) and (len(line) == len(prefix) or line[len(prefix)].isspace())


def _visible_lines(body: str) -> Iterator[str]:
    """Lines outside code, quotes and HTML comments, with up to three leading spaces removed."""
    fence = ""
    in_html_comment = False
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence:
            stripped = raw.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = ""
            continue
        if in_html_comment:
            in_html_comment = "-->" not in raw
            continue
        opening = _FENCE.match(raw)
        if opening:
            fence = opening.group(1)
            continue
        if raw.startswith(("    ", "\t")):
            continue  # indented code
        line = raw.strip()
        if line.startswith(">"):
            continue
        if line.startswith("<!--"):
            in_html_comment = "-->" not in line[4:]
            continue
        yield line
