"""The engine's refusals in the reader's language, through the message catalogue.

The engine words each refusal once, in English (``raise InvalidInput(f"{email} is …")``): the
command line prints it and the API returns it as ``message``, where scripts read it. The pages
show it to people who read Chinese. Rather than a second copy of every sentence, the engine's own
source is the list: each ``raise`` of a refusal whose message is a literal or an f-string becomes a
catalogue entry whose placeholders stand for the f-string's parts (``%(p1)s is deactivated: …``).

The same holds for the problems of a file the engine reads (a definition, an organisation file):
each ``lines.problem(path, f"…")`` is an entry too, and so is a state machine's refusal a use case
words itself (``fire(…, refused=f"…")``).

- ``extract_engine_messages`` is a Babel extractor (``babel.cfg``), so ``pybabel extract`` puts
  these entries into ``messages.pot`` beside the pages' own, to be translated like them;
- ``engine_message`` finds the entry a message was made from (the longest template it matches)
  and returns its translation with the parts filled in; a message made some other way is returned
  as it is.

A part is left as the engine wrote it (an e-mail, a title, a number): the sentence around it is
what is translated.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext
from flask_babel import gettext as _

import workflow

# the engine's refusals (workflow/errors.py) a page shows
REFUSALS = frozenset(
    {"InvalidInput", "Conflict", "Forbidden", "NotFound", "TransitionRefused", "ResetLinkInvalid"}
)
ENGINE = Path(workflow.__file__).parent


@dataclass(frozen=True)
class Template:
    msgid: str
    pattern: re.Pattern[str]
    literal_length: int


def engine_message(message: str) -> str:
    """The engine's ``message`` in the reader's language, when it was made from a known template."""
    for template in _templates():
        found = template.pattern.fullmatch(message)
        if found is not None:
            parts = found.groupdict()
            return gettext(template.msgid, **parts) if parts else gettext(template.msgid)
    return message


def target_words(text: str) -> str:
    """A target's expected value or detail (``workflow/assessment/targets.py``: "≤ 2 per quarter",
    "3 incident(s)", "2026-Q1: 1 (before: 2)") in the reader's language: the engine writes them for
    the report's files, in English, and the numbers and periods stay as they are."""
    periods = {
        "year": _("per year"),
        "quarter": _("per quarter"),
        "month": _("per month"),
        "week": _("per week"),
    }
    text = re.sub(
        r"(\d+) incident\(s\)", lambda m: _("%(count)s incident(s)", count=m.group(1)), text
    )
    text = re.sub(r" per (year|quarter|month|week)\b", lambda m: " " + periods[m.group(1)], text)
    text = re.sub(r"\(before: (\d+)\)", lambda m: _("(before: %(count)s)", count=m.group(1)), text)
    text = re.sub(
        r"^< (\d+) then fewer each period$",
        lambda m: _("< %(count)s, then fewer each period", count=m.group(1)),
        text,
    )
    return _("fewer than the period before") if text == "< the period before" else text


def extract_engine_messages(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface: each refusal template of one engine module, with its line."""
    source = fileobj.read().decode("utf-8")
    for line, msgid, _pattern, _length in _raises(source):
        yield line, None, msgid, ["engine refusal: keep every %(pN)s"]


# --- helpers ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _templates() -> tuple[Template, ...]:
    found: dict[str, Template] = {}
    for path in sorted(ENGINE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for _line, msgid, pattern, length in _raises(path.read_text(encoding="utf-8")):
            found.setdefault(msgid, Template(msgid, re.compile(pattern, re.DOTALL), length))
    # the most specific first: "a is deactivated: …" before "%(p1)s"
    return tuple(sorted(found.values(), key=lambda t: -t.literal_length))


def _raises(source: str) -> Iterator[tuple[int, str, str, int]]:
    """Each refusal's message, and each problem's of a file the engine reads (``lines.problem(path,
    message)``, ``Problem(source, line, key, message)``: a definition's or an organisation's)."""
    for node in ast.walk(ast.parse(source)):
        message = _message_of(node)
        template = _template(message) if message is not None else None
        # a sentence, not a bare part or a code (``phone_taken``, ``%(p1)s.isOffDay``)
        if template is not None and template[2] >= 8 and " " in template[0]:
            yield node.lineno, *template


def _message_of(node: ast.AST) -> ast.expr | None:
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        call = node.exc
        name = call.func.id if isinstance(call.func, ast.Name) else None
        return call.args[0] if name in REFUSALS and call.args else None
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "fire":
            # a state machine's refusal worded by its use case (machines.fire)
            return next((k.value for k in node.keywords if k.arg == "refused"), None)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "problem":
            return node.args[1] if len(node.args) >= 2 else None
        if isinstance(node.func, ast.Name) and node.func.id == "Problem":
            return node.args[3] if len(node.args) >= 4 else None
    return None


def _template(node: ast.expr) -> tuple[str, str, int] | None:
    """(msgid, regular expression, length of the literal text) of a literal or an f-string, or None
    for a message built some other way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace("%", "%%"), re.escape(node.value), len(node.value)
    if not isinstance(node, ast.JoinedStr):
        return None
    msgid, pattern, length, count = [], [], 0, 0
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            msgid.append(value.value.replace("%", "%%"))
            pattern.append(re.escape(value.value))
            length += len(value.value)
        elif isinstance(value, ast.FormattedValue):
            count += 1
            msgid.append(f"%(p{count})s")
            pattern.append(f"(?P<p{count}>.+?)")
        else:
            return None
    return "".join(msgid), "".join(pattern), length
