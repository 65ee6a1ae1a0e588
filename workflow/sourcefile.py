"""Our YAML source files (definitions, organisation) read with the line of every key, checked
against a schema.

PyYAML's ``safe_load`` forgets where things were and silently keeps the last
of two equal keys; a user told "bad duration" without a line hunts through a
200-line file. So we compose the node tree ourselves, build plain data from
it and remember the line of each path, e.g. ``("phases", 1, "tasks", 0,
"assignee")``. Every problem a user can cause becomes a :class:`Problem`
naming file, line and key, collected into one :class:`SourceError`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a source file, located by line and key.

    ``line`` is 1-based (the nearest enclosing line when the key has no line
    of its own); 0 means the file as a whole (it could not be read at all).
    """

    source: str
    line: int
    key: str  # dotted path with indices, "phases[1].tasks[0].assignee"; "" for the document
    message: str

    def __str__(self) -> str:
        """One line, whatever the file held: a key or value quoted in it with a line break or
        another control character shows it escaped (``"ti\\ntle"``), so that a list of problems
        is a line each."""
        where = f"{self.source}:{self.line}" if self.line else self.source
        key, message = one_line(self.key), one_line(self.message)
        return f"{where}: {key}: {message}" if key else f"{where}: {message}"


class SourceError(Exception):
    """A source file that cannot be used; ``problems`` lists everything wrong with it, by line."""

    def __init__(self, problems: Iterable[Problem], message: str | None = None) -> None:
        self.problems: list[Problem] = sorted(dict.fromkeys(problems), key=lambda p: p.line)
        if message is None:
            message = str(self.problems[0]) if self.problems else "invalid source file"
            if len(self.problems) > 1:
                message += f" (and {len(self.problems) - 1} more)"
        super().__init__(message)
        self.message = message


class SourceLines(Mapping[PathKey, int]):
    """The line of each path of a loaded file, and the problems found while loading that still let
    it be read."""

    def __init__(self, source: str, lines: dict[PathKey, int], problems: list[Problem]) -> None:
        self.source = source
        self._lines = lines
        # e.g. duplicate keys: reported with the schema's findings, not alone
        self.problems = problems

    def __getitem__(self, path: PathKey) -> int:
        return self._lines[path]

    def __iter__(self) -> Iterator[PathKey]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, or of its nearest ancestor that has one (a key that is missing has
        none)."""
        path = tuple(path)
        while path not in self._lines and path:
            path = path[:-1]
        return self._lines.get(path, 1)

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        """A problem at ``path`` of this file."""
        return Problem(self.source, self.line_of(path), format_path(path), message)


def load_yaml(text: str | bytes, source: str) -> tuple[dict[str, Any], SourceLines]:
    """Read a YAML file whose top level is a mapping: plain data, and the line of every path.

    Raises :class:`SourceError` when the file cannot be read as such (not UTF-8,
    a syntax error, empty, not a mapping). Duplicate keys do not stop reading:
    they are in ``lines.problems`` so that they are reported with the rest.
    """
    if isinstance(text, bytes):
        text = decode_utf8(text, source)
    loader: _DepthLimitedLoader | None = None
    try:
        # refuses characters YAML does not allow (ReaderError) at once
        loader = _DepthLimitedLoader(text)
        root = loader.get_single_node()
    except _TooDeep as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        raise SourceError([Problem(source, line, "", f"{_FATAL} {error.problem}")]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = ", ".join(part for part in (error.context, error.problem) if part)
        raise SourceError(
            [Problem(source, mark.line + 1 if mark else 1, "", f"YAML syntax error: {reason}")]
        ) from None
    except yaml.reader.ReaderError as error:
        # characters YAML does not allow (control characters): the position is in characters
        line = text.count("\n", 0, error.position) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise SourceError(
            [Problem(source, line, "", f"the character U+{code:04X} is not allowed in YAML")]
        ) from None
    except yaml.YAMLError as error:  # anything else PyYAML can raise has no mark
        raise SourceError([Problem(source, 1, "", f"YAML error: {error}")]) from None
    except ValueError:  # PyYAML's scanner hands "\U00110000" to chr() as it is
        line = loader.get_mark().line + 1 if loader is not None else 1
        raise SourceError(
            [
                Problem(
                    source,
                    line,
                    "",
                    "YAML syntax error: an escape names no character (the last one is \\U0010FFFF)",
                )
            ]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise SourceError([Problem(source, 1, "", "the file is empty")])
    builder = _Builder(source)
    data = builder.build(root, ())
    if not isinstance(data, dict):
        raise SourceError(
            [
                Problem(
                    source,
                    root.start_mark.line + 1,
                    "",
                    f"expected a mapping of keys at the top of the file, found {kind_of(data)}",
                )
            ]
        )
    builder.problems.sort(key=lambda p: p.line)
    if any(p.message.startswith(_FATAL) for p in builder.problems):
        raise SourceError(builder.problems)
    return data, SourceLines(source, builder.lines, builder.problems)


def decode_utf8(raw: bytes, source: str) -> str:
    """The text of a UTF-8 file (a BOM is dropped); anything else is a located problem."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise SourceError(
            [
                Problem(
                    source,
                    line,
                    "",
                    f"not UTF-8 text (byte 0x{raw[error.start]:02x} "
                    f"at offset {error.start}): save the file as UTF-8",
                )
            ]
        ) from None


def read_source_file(path: str | Path) -> str:
    """The text of a file, or a :class:`SourceError` saying why it cannot be read."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise SourceError([Problem(str(path), 0, "", f"cannot read the file: {reason}")]) from None
    return decode_utf8(raw, str(path))


def one_line(text: str) -> str:
    """``text`` with its control characters and line separators escaped as Python writes them."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def format_path(path: Sequence[str | int]) -> str:
    """A path as users read it: ``("phases", 1, "tasks", 0, "assignee")`` →
    ``phases[1].tasks[0].assignee``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def kind_of(value: object) -> str:
    """What a value is, in the words of a YAML user: "a list", "a mapping", "a string"…"""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    for python_type, words in _KINDS.items():
        if isinstance(value, python_type):
            return words
    return type(value).__name__


def shipped_folder() -> Traversable:
    """The folder of shipped definitions and schemas: the package data of ``workflow.shipped``."""
    try:
        return files("workflow.shipped")
    except ModuleNotFoundError:
        # an editable install made before `workflow.shipped` was declared maps only
        # `workflow` and `webapp`; the checkout's `definitions/` holds the same files
        return Path(__file__).resolve().parent.parent / "definitions"


@cache
def shipped_validator(name: str) -> Draft202012Validator:
    """A validator for the shipped JSON schema ``name`` (e.g. ``schema.json``), built once."""
    schema = json.loads((shipped_folder() / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_problems(
    validator: Draft202012Validator, data: object, lines: SourceLines
) -> list[Problem]:
    """Every way ``data`` breaks the schema, each as a located problem with a message a user can act
    on."""
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        problems.extend(_problems_of(error, lines))
    return list(dict.fromkeys(problems))  # `required` reports its whole list once per missing key


def validated_document(
    text: str | bytes,
    source: str,
    schema_name: str,
    checks: Sequence[Callable[[dict[str, Any], SourceLines], list[Problem]]],
    error: type[SourceError],
    bounds: Callable[[dict[str, Any], SourceLines], list[Problem]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Decode, load and validate a YAML document against a shipped schema and ``checks``.

    Returns the text and the data, or raises ``error`` listing every problem by
    file, line and key. A key the schema already refused gets no second message
    from the checks. ``bounds`` runs first: a problem it finds (a document too big to check in
    reasonable time) is all that is reported, before the schema and the checks take that time.
    """
    try:
        if isinstance(text, bytes):
            text = decode_utf8(text, source)
        data, lines = load_yaml(text, source)
    except SourceError as failure:
        raise error(failure.problems) from None
    if bounds is not None and (too_big := bounds(data, lines)):
        raise error(too_big)
    problems = [*lines.problems, *schema_problems(shipped_validator(schema_name), data, lines)]
    flagged = {problem.key for problem in problems}
    for check in checks:
        problems += [p for p in check(data, lines) if p.key not in flagged]
    if problems:
        raise error(problems)
    return text, data


def read_document(path: str | Path, error: type[SourceError]) -> str:
    """The text of the file at ``path``, or ``error`` saying why it cannot be read."""
    try:
        return read_source_file(path)
    except SourceError as failure:
        raise error(failure.problems) from None


# --- building data from the node tree -----------------------------------------------------------

_FATAL = "unsupported YAML:"  # problems that leave no sensible data to check further
# No real file comes near these; they keep a hostile one from exhausting the stack (PyYAML's
# composer, the schema check and our builder all recurse per level) or, through aliases of aliases
# ("billion laughs"), the memory and the time of whoever validates it.
MAX_NESTING = 50
MAX_ALIAS_EXPANSION = 10_000


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _DepthLimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than :data:`MAX_NESTING` before it can overflow
    the stack."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _TooDeep(
                    problem=f"nested more than {MAX_NESTING} levels deep",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


_KINDS: dict[type, str] = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    dict: "a mapping",
    list: "a list",
}

_SURROGATE = re.compile("[\ud800-\udfff]")
# what breaks or rewrites a line on a terminal or in a log: C0 and C1 controls, DEL, U+2028/2029
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_SCALARS = yaml.SafeLoader("")  # only its scalar constructors are used: they keep no state


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # nodes being built: an alias back into one is a cycle
        self._built: set[int] = set()
        self._expanded = 0  # nodes built again through an alias

    def build(self, node: yaml.Node, path: PathKey, line: int | None = None) -> Any:
        # a mapping value is located at its key (the user's eye finds the key); anything else at
        # itself
        self.lines.setdefault(path, line if line is not None else node.start_mark.line + 1)
        if id(node) in self._open:
            self._fail(node, path, f"{_FATAL} an alias refers to a node that contains it")
            return None
        if id(node) in self._built and not self._may_expand(node, path):
            return None
        self._built.add(id(node))
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            self._unsupported(node, path)
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            return self._scalar(node, path)
        finally:
            self._open.discard(id(node))

    def _may_expand(self, node: yaml.Node, path: PathKey) -> bool:
        """Count one more value built again through an alias or a merge; False once there were too
        many."""
        self._expanded += 1
        if self._expanded == MAX_ALIAS_EXPANSION + 1:  # said once, where the limit was crossed
            self._fail(
                node,
                path,
                f"{_FATAL} aliases expand to more than {MAX_ALIAS_EXPANSION} values "
                f"(aliases of aliases?)",
            )
        return self._expanded <= MAX_ALIAS_EXPANSION

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._fail(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            # keys are names: `on:` is the key "on", not YAML 1.1's boolean true
            key, line = self._text(key_node, path), key_node.start_mark.line + 1
            if key is None:
                continue
            if key in first_line:
                self.problems.append(
                    Problem(
                        self.source,
                        line,
                        format_path((*path, key)),
                        f"duplicate key '{key}' (first at line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = line
            result[key] = self.build(value_node, (*path, key), line)
        # `<<: *defaults` fills in what the mapping does not say itself (YAML merge keys)
        for source_node in merged:
            if not isinstance(source_node, yaml.MappingNode):
                self._fail(source_node, path, "'<<' merges a mapping (or a list of mappings) only")
                continue
            if id(source_node) in self._open:  # `&a {<<: *a}` would merge itself for ever
                self._fail(source_node, path, f"{_FATAL} '<<' merges a mapping that contains it")
                continue
            # merges of merges are aliases of aliases too
            if not self._may_expand(source_node, path):
                break
            self._open.add(id(source_node))
            try:
                for key, value in self._mapping(source_node, path).items():
                    result.setdefault(key, value)
            finally:
                self._open.discard(id(source_node))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> Any:
        tag = node.tag.rsplit(":", 1)[-1]
        if tag in ("str", "timestamp", "binary"):
            # a date stays the text the user wrote; the schema decides what it means
            return self._text(node, path)
        constructor = {
            "int": _SCALARS.construct_yaml_int,
            "float": _SCALARS.construct_yaml_float,
            "bool": _SCALARS.construct_yaml_bool,
            "null": _SCALARS.construct_yaml_null,
        }.get(tag)
        if constructor is None:
            self._unsupported(node, path)
            return None
        try:
            return constructor(node)
        except ValueError:
            # Python refuses to convert integers of more than 4,300 digits (CVE-2020-10735)
            self._fail(node, path, f"{_FATAL} a number of {len(node.value)} characters is too long")
            return None

    def _text(self, node: yaml.ScalarNode, path: PathKey) -> str | None:
        """The text of a scalar; ``\\ud83d\\ude84`` escapes (as JSON tools write 🚄) joined into one
        character."""
        value: str = node.value
        if not _SURROGATE.search(value):
            return value
        # PyYAML keeps each half of an escaped pair apart: text no database, file or terminal can
        # encode
        try:
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            self._fail(
                node,
                path,
                f"{_FATAL} a \\u escape names half of a character (an unpaired surrogate)",
            )
            return None

    def _unsupported(self, node: yaml.Node, path: PathKey) -> None:
        # SafeLoader would refuse these too; `!!python/...` must never build objects
        shown = node.tag.replace("tag:yaml.org,2002:", "!!")
        self._fail(node, path, f"{_FATAL} the tag {shown} is not supported here")

    def _fail(self, node: yaml.Node, path: PathKey, message: str) -> None:
        self.problems.append(
            Problem(self.source, node.start_mark.line + 1, format_path(path), message)
        )


# --- schema errors as problems ------------------------------------------------------------------

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing",
}


def _problems_of(error: ValidationError, lines: SourceLines) -> list[Problem]:
    path: PathKey = tuple(error.absolute_path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(value, dict):
        known = [*schema.get("properties", {})]
        return [
            lines.problem((*path, key), _unknown_key(key, known))
            for key in value
            if key not in known
        ]
    if error.validator == "required" and isinstance(value, dict):
        return [
            lines.problem(path, f"missing '{key}'")
            for key in error.validator_value
            if key not in value
        ]
    return [lines.problem(path, _message(error, schema))]


def _unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(known)})"
    return f"unknown key '{key}'{hint}"


def _message(error: ValidationError, schema: dict[str, Any]) -> str:
    value = error.instance
    # `errorMessage` is the non-standard keyword VS Code's and yaml-language-server's
    # schema support show in the editor; we show the same words, with the value
    custom = schema.get("errorMessage")
    if isinstance(custom, str):
        head, colon, tail = custom.partition(": ")
        return f"{head} {_shown(value)}: {tail}" if colon else custom
    validator = error.validator
    if validator == "type":
        expected = (
            error.validator_value
            if isinstance(error.validator_value, list)
            else [error.validator_value]
        )
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        return f"expected {words}, found {kind_of(value)}"
    if validator == "enum":
        allowed = ", ".join(str(choice) for choice in error.validator_value)
        return f"expected one of {allowed}; found {_shown(value)}"
    if validator == "const":
        return f"expected {error.validator_value!r}; found {_shown(value)}"
    if validator == "pattern":
        return f"{_shown(value)} does not have the form {error.validator_value}"
    if validator == "minimum":
        return f"must be at least {error.validator_value}; found {_shown(value)}"
    if validator == "maximum":
        return f"must be at most {error.validator_value}; found {_shown(value)}"
    if validator == "minLength":
        return (
            "must not be empty"
            if error.validator_value == 1
            else f"needs at least {error.validator_value} characters"
        )
    if validator == "minItems":
        return (
            "must not be empty"
            if error.validator_value == 1
            else f"needs at least {error.validator_value} items"
        )
    if validator == "uniqueItems":
        return "lists the same item twice"
    return error.message


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
