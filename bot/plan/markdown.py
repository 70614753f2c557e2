"""The plan as GitHub markdown: risks first, a line per root, collapsible diffs, split to fit comments."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.core.masking import mask_secrets
from bot.markdown_text import code_span
from bot.plan.model import (
    CREATE,
    DELETE,
    RENAME,
    RENDERED,
    UPDATE,
    ObjectDiff,
    Plan,
    Risk,
    RootPlan,
    key_display,
)

# "Body is too long (maximum is 65536 characters)": GitHub's limit on an issue comment.
COMMENT_LIMIT = 65536
MIN_LIMIT = 3000  # room for a heading, one root and a truncated diff

TITLE = "Plan"
CLOSE_DETAILS = "</details>\n\n"
_SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-", RENAME: "→"}
_VERB = {CREATE: "create", UPDATE: "update", DELETE: "delete", RENAME: "rename"}
_MAX_LINE = 1000  # one risk or root line
_MAX_NOTES = 20
_MAX_PATH = 200
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")


@dataclass(frozen=True)
class _Block:
    """A piece of the comment that is never split: a line, a root's heading or one object's diff."""

    text: str
    root: str | None = None  # the root whose <details> this block sits in
    opens: bool = False
    closes: bool = False


def render_plan_markdown(plan: Plan) -> str:
    """The whole plan as one markdown document, however long (for the CLI)."""
    blocks = _blocks(plan, max_block=None)
    return _heading(1, 1) + "".join(b.text for b in blocks)


def render_plan_comments(plan: Plan, limit: int = COMMENT_LIMIT) -> list[str]:
    """The plan as one or more comments of at most ``limit`` characters each.

    Parts break between objects, never inside a code block; each part closes the
    `<details>` it opened and the next reopens it "(continued)". An object whose
    diff alone is too large is truncated with a note.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit {limit} is too small for a plan comment (at least {MIN_LIMIT})")
    budget = limit - len(_heading(999, 999))
    max_block = budget - len(_reopen("&" * _MAX_PATH)) - len(CLOSE_DETAILS)  # "&" escapes to 5 characters
    parts = _split(_blocks(plan, max_block=max_block), budget)
    return [_heading(i + 1, len(parts)) + "".join(part) for i, part in enumerate(parts)]


def _split(blocks: list[_Block], budget: int) -> list[list[str]]:
    parts: list[list[str]] = []
    current: list[_Block] = []
    open_root: str | None = None
    for block in blocks:
        root_after = None if block.closes else (block.root if block.opens else open_root)
        needed = len(block.text) + (len(CLOSE_DETAILS) if root_after is not None else 0)
        if current and _length(current) + needed > budget:
            current = _finish_part(current, open_root, block, needed, budget, parts)
        current.append(block)
        open_root = root_after
    if current:
        parts.append([b.text for b in current])
    return parts or [[]]


def _finish_part(
    current: list[_Block], open_root: str | None, block: _Block, needed: int, budget: int, parts: list[list[str]]
) -> list[_Block]:
    """Close the full part and return the start of the next one (with the open root reopened)."""
    heading = current[-1] if current[-1].opens else None
    if heading is not None and len(heading.text) + needed <= budget:
        current.pop()  # move a root heading along with its first object rather than leave it empty
        if current:
            parts.append([b.text for b in current])
        return [heading]
    texts = [b.text for b in current] + ([CLOSE_DETAILS] if open_root is not None else [])
    parts.append(texts)
    if open_root is not None and not block.opens:
        return [_Block(_reopen(open_root), open_root, opens=True)]
    return []


def _length(blocks: list[_Block]) -> int:
    return sum(len(b.text) for b in blocks)


def _heading(number: int, total: int) -> str:
    return f"## {TITLE}\n\n" if total == 1 else f"## {TITLE} (part {number} of {total})\n\n"


def _reopen(path: str) -> str:
    return f"<details open>\n<summary><b>{_html(path)}</b> (continued)</summary>\n\n"


def _blocks(plan: Plan, max_block: int | None) -> list[_Block]:
    blocks = [_Block(_intro(plan))]
    risks = plan.risks
    if risks:
        blocks.append(_Block(f"> [!WARNING]\n> **Risky changes ({len(risks)})**\n"))
        blocks.extend(_Block(_clip(f"> - {_risk_line(r)}", _MAX_LINE) + "\n") for r in risks)
        blocks.append(_Block("\n"))
    blocks.extend(_Block(_clip(_root_line(r), _MAX_LINE) + "\n") for r in plan.roots)
    if plan.roots:
        blocks.append(_Block("\n"))
    for notice in plan.notices:
        blocks.append(_Block(_clip(f"_{_inline(notice)}_", _MAX_LINE) + "\n\n"))
    for root in plan.roots:
        path = _clip(root.display_path, _MAX_PATH)
        blocks.append(_Block(_root_heading(root, path, max_block), path, opens=True))
        blocks.extend(_Block(_object_block(o, max_block), path) for o in root.objects)
        blocks.append(_Block(CLOSE_DETAILS, path, closes=True))
    return blocks


def _intro(plan: Plan) -> str:
    sides = f"`{code_span(plan.base or 'base')}` → `{code_span(plan.head or 'head')}`"
    if not plan.roots:
        return f"{sides}: no kustomization or manifest directory is affected, nothing will change.\n\n"
    totals = {op: sum(r.counts()[op] for r in plan.roots) for op in (CREATE, UPDATE, DELETE, RENAME)}
    counts = f"+{totals[CREATE]} ~{totals[UPDATE] + totals[RENAME]} -{totals[DELETE]}"
    noun = "root" if len(plan.roots) == 1 else "roots"
    return f"{sides}: {len(plan.roots)} {noun} affected, `{counts}`\n\n"


def _risk_line(risk: Risk) -> str:
    return f"`{code_span(risk.root or '.')}`: {_inline(risk.message)}"


def _root_line(root: RootPlan) -> str:
    line = f"- `{code_span(root.display_path)}` "
    line += f"`{root.counts_display()}`" if root.status == RENDERED else f"**{root.status}**"
    if root.deployed_by:
        line += " — deployed by " + ", ".join(_inline(d.display()) for d in root.deployed_by)
    return line


def _root_heading(root: RootPlan, path: str, max_block: int | None) -> str:
    status = root.counts_display() if root.status == RENDERED else root.status
    text = f"<details>\n<summary><b>{_html(path)}</b> {_html(status)}</summary>\n\n"
    if root.reason:
        text += f"**{root.status}**: {_inline(_clip(mask_secrets(root.reason), 3000))}\n\n"
    if root.status == RENDERED and not root.objects:
        text += "No object changes.\n\n"
    for note in root.notes[:_MAX_NOTES]:
        text += f"- {_inline(_clip(mask_secrets(note), 300))}\n"
    if len(root.notes) > _MAX_NOTES:
        text += f"- … and {len(root.notes) - _MAX_NOTES} more notes\n"
    if root.notes:
        text += "\n"
    return _clip(text, max_block - len(CLOSE_DETAILS)) + "\n\n" if max_block and len(text) > max_block else text


def _object_block(obj: ObjectDiff, max_block: int | None) -> str:
    title = f"{_SYMBOL[obj.operation]} {_VERB[obj.operation]} {key_display(obj.key)}"
    if obj.previous_key:
        title += f" (was {obj.previous_key[3]})"
    head = f"<details>\n<summary>{_html(title)}</summary>\n\n"
    for change in obj.secret_keys:
        head += f"- Secret key {change.display()}\n"
    if obj.secret_keys:
        head += "\n"
    tail = "</details>\n\n"
    lines = obj.diff.splitlines()
    fence = "`" * max(3, _longest_backtick_run(obj.diff) + 1)
    full = f"{head}{fence}diff\n{obj.diff}\n{fence}\n\n{tail}"
    if max_block is None or len(full) <= max_block:
        return full
    note = "_Diff truncated: {shown} of {total} lines shown; run `gitops-bot plan` locally for all of it._\n\n"
    room = max_block - len(head) - len(tail) - 2 * len(fence) - len("diff\n\n\n\n") - len(note) - 20
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > room:
            break
        shown.append(line)
        used += len(line) + 1
    body = "\n".join(shown)
    return f"{head}{fence}diff\n{body}\n{fence}\n\n{note.format(shown=len(shown), total=len(lines))}{tail}"


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(r) for r in runs), default=0)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _html(text: str) -> str:
    return html.escape(text, quote=False).replace("@", "@\u200b")


def _inline(text: str) -> str:
    """Markdown-inert text: no emphasis, links, tables or @mentions from names and images in the change."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("@", "@\u200b")
