"""Definition and organisation files, broken on purpose: the validators answer with located problems, never crash.

The inputs start from the files we ship (``definitions/*.yaml``,
``definitions/org/*.yaml``), which are valid, and are then broken the ways
people and intruders break files: keys deleted, values of the wrong type,
numbers too large to print, any Unicode, ids used twice, YAML syntax broken,
bytes that are not UTF-8, NUL and other control characters, nesting hundreds
of levels deep, and aliases of aliases ("billion laughs"). Whatever arrives,
``parse_definition`` / ``parse_organisation`` return a result or raise their
own error listing problems that each name the file and a line (and a key path
where there is one), and ``pingan validate`` / ``pingan import-org`` exit 1
with one located line per problem on stderr.

The number of inputs tried is printed at the end of the module (pytest's
terminal summary), e.g. ``timeout 900 .venv/bin/python -m pytest tests/unit/test_fuzz_validators.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.paths import ROOT
from webapp.cli.main import cli
from workflow.definitions.reader import Definition, DefinitionError, parse_definition
from workflow.organisation.org_file import Organisation, OrganisationError, parse_organisation
from workflow.sourcefile import MAX_NESTING, SourceError

SHIPPED_DEFINITIONS = sorted((ROOT / "definitions").glob("*.yaml"))
SHIPPED_ORGANISATIONS = sorted((ROOT / "definitions" / "org").glob("*.yaml"))
DEFINITION_TEXTS = [path.read_text(encoding="utf-8") for path in SHIPPED_DEFINITIONS]
ORGANISATION_TEXTS = [path.read_text(encoding="utf-8") for path in SHIPPED_ORGANISATIONS]
SOURCE = "fuzzed.yaml"

# every generated input handed to a validator, by kind: reported at the end of the module
TRIED: Counter[str] = Counter()

# bounded so the module runs in well under two minutes on a shared two-core machine
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI_RUNS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many generated inputs the validators were given (the issue's closing note quotes it)."""
    yield
    total = sum(TRIED.values())
    detail = ", ".join(f"{kind}: {count}" for kind, count in sorted(TRIED.items()))
    line = f"test_fuzz_validators: {total} generated inputs tried ({detail})"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():  # shown without -s, beside the test's dots
        print(f"\n{line}")


# --- what every answer must look like -----------------------------------------------------------


def checked(
    parse: Callable[[str | bytes, str], Any],
    error_type: type[SourceError],
    payload: str | bytes,
    kind: str,
) -> SourceError | Definition | Organisation:
    """Run a validator on ``payload``: a result, or its own error whose every problem names file and line.

    Any other exception escapes and fails the test: that is the crash we look for.
    """
    TRIED[kind] += 1
    try:
        return parse(payload, SOURCE)
    except error_type as error:
        assert error.problems, f"an error without a located problem: {error}"
        last_line = _line_count(payload) + 1
        for problem in error.problems:
            assert problem.source == SOURCE
            assert 1 <= problem.line <= last_line, (problem, last_line)
            shown = str(problem)
            assert shown.startswith(f"{SOURCE}:{problem.line}: "), shown
            assert "\n" not in shown and "\r" not in shown, (
                f"a problem must print as one line: {shown!r}"
            )
            assert "Traceback" not in shown
            shown.encode("utf-8")  # printable: no half of a character in it
        assert str(error).startswith(f"{SOURCE}:"), str(error)
        return error


def assert_storable(value: Any) -> None:
    """Every text of a parsed file can be encoded as UTF-8 (stored, mailed, printed): no lone surrogate."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            assert_storable(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            assert_storable(item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            assert_storable(key)
            assert_storable(item)


def _line_count(payload: str | bytes) -> int:
    return payload.count(b"\n" if isinstance(payload, bytes) else "\n") + 1


def check_definition(
    payload: str | bytes, kind: str = "definition"
) -> DefinitionError | Definition:
    result = checked(parse_definition, DefinitionError, payload, kind)
    assert isinstance(result, (DefinitionError, Definition))
    assert_storable(result)
    return result


def check_organisation(
    payload: str | bytes, kind: str = "organisation"
) -> OrganisationError | Organisation:
    result = checked(parse_organisation, OrganisationError, payload, kind)
    assert isinstance(result, (OrganisationError, Organisation))
    assert_storable(result)
    return result


# --- how inputs are broken ----------------------------------------------------------------------

# a number too long for Python to print (CVE-2020-10735): YAML holds it as text, so it is spliced in after dumping
HUGE = "HUGENUMBERMARKER"
# \u escapes of UTF-16 halves, as JSON tools write characters beyond the BMP: a pair is one character, a lone
# half is no character at all (no database, file or terminal can encode it); spliced in after dumping too
SURROGATES = "SURROGATEMARKER"
ESCAPED_HALVES = ['"\\ud83d\\ude84"', '"\\ud83d"', '"a\\udc00b"', '"\\ude84\\ud83d"']
WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63),
    st.floats(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=10),
    st.sampled_from(
        [
            "平安铁路",
            "🚂🔥",
            "\u202eevil\u202c",
            "\u200f\u05e9\u05dc\u05d5\u05dd",
            "a\x00b",
            "\x1b[31m",
            "x" * 100_000,
            "-1d",
            "0wd",
            "99999wd",
            "* * * * *",
            "61 * * * *",
            "Asia",
            "../../etc/passwd",
            "responsible",
            "",
            " ",
            "null",
            "~",
            "yes",
            "on",
            "0x1F",
            "1_000",
            "2026-02-30",
            HUGE,
            SURROGATES,
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)
SYNTAX_BREAKERS = st.sampled_from(
    [
        ":",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&anchor ",
        "*anchor",
        "*missing",
        "!!python/object:os.system ",
        "!!binary ",
        "!local ",
        "\t",
        '"',
        "'",
        "|",
        ">",
        "%YAML 1.1\n",
        "@",
        "`",
        "#",
        "\n  ",
        "\n- ",
        "? ",
        "<<: ",
        "---\n",
        "...\n",
        "\x00",
        "\ufeff",
        "\u202e",
        "\x1b",
        "\x85",
        "\u2028",
        "\r",
        "\\",
        "&a [*a]",
        "<<: *a",
        *(f" {halves}" for halves in ESCAPED_HALVES),
        '"\\x',
        '"\\U0010FFFF"',
        '"\\U00110000"',
    ]
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path below ``value`` that can be deleted or replaced."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*path, index)
            yield from _paths(child, (*path, index))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _id_lists(value: Any) -> list[list[dict[str, Any]]]:
    """Every list of mappings with ids in ``value`` (roles, phases, tasks, units, people …)."""
    found = []
    if isinstance(value, dict):
        for child in value.values():
            found += _id_lists(child)
    elif isinstance(value, list):
        if value and all(isinstance(item, dict) and "id" in item for item in value):
            found.append(value)
        for child in value:
            found += _id_lists(child)
    return found


def _nested(depth: int, as_mapping: bool) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": value} if as_mapping else [value]
    return value


@st.composite
def changed_data(draw: st.DrawFn, data: Any) -> Any:
    """The document's data with one thing broken: a key deleted, a wrong value, an id repeated, deep nesting."""
    data = copy.deepcopy(data)
    paths = list(_paths(data))
    change = draw(
        st.sampled_from(["delete", "replace", "replace", "duplicate-id", "nest", "unicode"])
    )
    if change == "duplicate-id" and _id_lists(data):
        items = draw(st.sampled_from(_id_lists(data)))
        if len(items) > 1 and draw(st.booleans()):
            items[-1]["id"] = items[0]["id"]
        else:
            items.append(copy.deepcopy(draw(st.sampled_from(items))))
        return data
    if not paths:
        return data
    path = draw(st.sampled_from(paths))
    parent = _parent(data, path)
    if change == "delete":
        del parent[path[-1]]
    elif change == "nest":
        parent[path[-1]] = _nested(draw(st.integers(1, 3 * MAX_NESTING)), draw(st.booleans()))
    elif change == "unicode" and isinstance(parent[path[-1]], str):
        parent[path[-1]] = draw(st.text(min_size=1, max_size=30))
    else:
        parent[path[-1]] = draw(WRONG_VALUES)
    return data


@st.composite
def changed_text(draw: st.DrawFn, text: str) -> str:
    """The text with its YAML broken: a character inserted, a slice cut, a line repeated or re-indented."""
    if not text:
        return draw(SYNTAX_BREAKERS)
    change = draw(
        st.sampled_from(
            ["insert", "insert", "cut", "repeat-line", "indent", "truncate", "key-repeat"]
        )
    )
    at = draw(st.integers(0, len(text)))
    if change == "insert":
        return text[:at] + draw(SYNTAX_BREAKERS | st.text(max_size=4)) + text[at:]
    if change == "cut":
        return text[:at] + text[at + draw(st.integers(1, 40)) :]
    if change == "truncate":
        return text[:at]
    lines = text.splitlines(keepends=True)
    index = draw(st.integers(0, len(lines) - 1))
    if change == "repeat-line":
        lines.insert(index, lines[index])
    elif change == "indent":
        lines[index] = draw(st.sampled_from(["", " ", "   ", "\t"])) + lines[index].lstrip(" ")
    else:  # the first key of the file written again at the end: a duplicate key
        lines.append("\n" + lines[0])
    return "".join(lines)


@st.composite
def changed_bytes(draw: st.DrawFn, text: str) -> bytes:
    """The file's bytes with something that is not UTF-8 in it, or a BOM, or nothing but noise."""
    raw = text.encode("utf-8")
    change = draw(st.sampled_from(["splice", "bom", "utf16", "noise"]))
    if change == "noise":
        return draw(st.binary(max_size=300))
    if change == "bom":
        return b"\xef\xbb\xbf" + raw
    if change == "utf16":
        return text.encode("utf-16")
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]


@st.composite
def broken_documents(draw: st.DrawFn, texts: list[str]) -> str | bytes:
    """A shipped file broken one to three times, in its data, its text, or its bytes."""
    text = draw(st.sampled_from(texts))
    data = yaml.safe_load(text)
    for _ in range(draw(st.integers(0, 3))):
        data = draw(changed_data(data))
    rendered = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
    rendered = rendered.replace(HUGE, "9" * draw(st.sampled_from([20, 4300, 4301, 10_000])))
    rendered = rendered.replace(SURROGATES, draw(st.sampled_from(ESCAPED_HALVES)))
    for _ in range(draw(st.integers(0, 2))):
        rendered = draw(changed_text(rendered))
    if draw(st.integers(0, 9)) == 0:
        return draw(changed_bytes(rendered))
    return rendered


@st.composite
def laughs(draw: st.DrawFn, texts: list[str]) -> str:
    """A shipped file with aliases of aliases ("billion laughs") under one of its keys, or a new one."""
    depth, fanout = draw(st.integers(2, 9)), draw(st.integers(2, 10))
    merge = draw(st.booleans())
    lines = ["lol0: &lol0 " + ("{ha: ha}" if merge else "[" + ", ".join(["ha"] * fanout) + "]")]
    for level in range(1, depth + 1):
        aliases = ", ".join([f"*lol{level - 1}"] * fanout)
        lines.append(
            f"lol{level}: &lol{level} "
            + (f"{{<<: [{aliases}], x{level}: 1}}" if merge else f"[{aliases}]")
        )
    text = draw(st.sampled_from(texts))
    target = draw(st.sampled_from(["top", "description", "roles", "people", "units"]))
    bomb = "\n".join(lines) + "\n"
    if target == "top":
        return bomb + text
    # the anchors first, then a real key of the file that uses the largest of them
    return bomb + re.sub(rf"(?m)^{target}:.*$", f"{target}: *lol{depth}", text, count=1)


# --- the shipped files are the valid starting point ---------------------------------------------


@pytest.mark.parametrize("path", SHIPPED_DEFINITIONS, ids=lambda p: p.name)
def test_every_shipped_definition_is_valid_as_the_fuzzing_starts_from_it(path):
    assert isinstance(check_definition(path.read_text(encoding="utf-8"), "shipped"), Definition)


@pytest.mark.parametrize("path", SHIPPED_ORGANISATIONS, ids=lambda p: p.name)
def test_every_shipped_organisation_file_is_valid_as_the_fuzzing_starts_from_it(path):
    assert isinstance(check_organisation(path.read_text(encoding="utf-8"), "shipped"), Organisation)


# --- the parsers --------------------------------------------------------------------------------


@FAST
@given(broken_documents(DEFINITION_TEXTS))
def test_a_broken_definition_is_refused_with_located_problems_never_a_crash(payload):
    check_definition(payload)


@FAST
@given(broken_documents(ORGANISATION_TEXTS))
def test_a_broken_organisation_file_is_refused_with_located_problems_never_a_crash(payload):
    check_organisation(payload)


@SOME
@given(st.binary(max_size=2000) | st.text(max_size=2000))
def test_any_bytes_or_text_at_all_are_refused_with_a_located_problem(payload):
    check_definition(payload, "noise")
    check_organisation(payload, "noise")


@SOME
@given(st.data())
def test_aliases_of_aliases_are_refused_at_once_instead_of_filling_the_memory(data):
    for texts, check in (
        (DEFINITION_TEXTS, check_definition),
        (ORGANISATION_TEXTS, check_organisation),
    ):
        bomb = data.draw(laughs(texts))
        started = time.perf_counter()
        result = check(bomb, "laughs")
        # ten levels of ten aliases is 10^10 values built: unbounded, this takes hours, not seconds
        assert time.perf_counter() - started < 10
        assert isinstance(result, SourceError)


@SOME
@given(st.integers(MAX_NESTING + 1, 20_000), st.sampled_from(["[", "{a: ", "- ", "a:\n"]))
def test_nesting_deeper_than_any_real_file_is_refused_where_it_goes_too_deep(depth, opener):
    if opener == "- ":
        nested = (
            "".join("  " * level + "-\n" for level in range(min(depth, 400)))
            + "  " * min(depth, 400)
            + "x\n"
        )
    elif opener == "a:\n":
        nested = (
            "".join("  " * level + "a:\n" for level in range(min(depth, 400)))
            + "  " * min(depth, 400)
            + "x\n"
        )
    else:
        nested = opener * depth + "x" + ("]" if opener == "[" else "}") * depth + "\n"
    for check in (check_definition, check_organisation):
        problem = check(
            "id: deep\nvalue: " + nested if opener in ("[", "{a: ") else nested, "nesting"
        )
        assert isinstance(problem, SourceError)
        assert f"nested more than {MAX_NESTING} levels deep" in str(problem)


def test_a_unit_tree_as_deep_as_a_real_administration_is_still_read():
    # province → city → county → town → village → group, and then some: well inside the nesting limit
    levels = 20
    text = "units:\n"
    for level in range(levels):
        indent = "  " * (2 * level + 1)
        text += f"{indent}- id: u{level}\n{indent}  name: 第{level}级\n"
        if level < levels - 1:
            text += f"{indent}  children:\n"
    text += "people:\n  - {email: a@example.org, name: 张三, unit: u19, roles: [village_head]}\n"
    organisation = check_organisation(text, "deep-but-real")
    assert isinstance(organisation, Organisation)
    assert [unit.id for unit in organisation.units][-1] == "u19"


# --- the problems found so far, kept as examples ------------------------------------------------


@pytest.mark.parametrize(
    "payload, expected",
    [
        (
            "id: x\nversion: " + "9" * 5000 + "\n",
            "fuzzed.yaml:2: version: unsupported YAML: a number of 5000 characters",
        ),
        (
            "id: x\nversion: 1\ntitle: t\ntimezone: Asia\nphases: [{id: a}]\n",
            "fuzzed.yaml:4: timezone: unknown timezone 'Asia'",
        ),
        (
            "id: x\nversion: 1\ntitle: t\ntimezone: " + "A" * 300 + "\nphases: [{id: a}]\n",
            "fuzzed.yaml:4: timezone: unknown timezone",
        ),
        (
            "a: &a {<<: *a, b: 1}\n",
            "fuzzed.yaml:1: a: unsupported YAML: '<<' merges a mapping that contains it",
        ),
        (
            "a: " + "[" * 5000 + "]" * 5000 + "\n",
            f"fuzzed.yaml:1: unsupported YAML: nested more than {MAX_NESTING} levels",
        ),
        (
            'id: x\ntitle: "\\U00110000"\n',
            "fuzzed.yaml:2: YAML syntax error: an escape names no character",
        ),
        (
            'id: x\ntitle: "a\\ud83db"\n',
            "fuzzed.yaml:2: title: unsupported YAML: a \\u escape names half of a character",
        ),
    ],
)
def test_inputs_that_used_to_crash_the_validator_are_named_by_line(payload, expected):
    error = check_definition(payload, "regression")
    assert isinstance(error, DefinitionError)
    assert any(str(problem).startswith(expected) for problem in error.problems), error.problems


# --- the command line ---------------------------------------------------------------------------


@CLI_RUNS
@given(broken_documents(DEFINITION_TEXTS))
def test_pingan_validate_exits_1_with_one_located_line_per_problem(tmp_path, payload):
    path = tmp_path / "fuzzed-definition.yaml"
    path.write_bytes(payload if isinstance(payload, bytes) else payload.encode("utf-8"))
    expected = check_definition(path.read_bytes(), "cli validate")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if isinstance(expected, Definition):
        assert result.exit_code == 0 and result.stderr == ""
        return
    assert result.exit_code == 1
    lines = result.stderr.rstrip("\n").split("\n")  # a terminal breaks lines at \n only
    assert len(lines) == len(expected.problems), "one line per problem, nothing else"
    assert all(re.match(rf"{re.escape(str(path))}:\d+: ", line) for line in lines), lines
    assert "Traceback" not in result.stderr and result.stdout == ""


@CLI_RUNS
@given(broken_documents(ORGANISATION_TEXTS))
def test_pingan_import_org_refuses_a_broken_file_with_a_located_first_line(
    tmp_path, monkeypatch, payload
):
    path = tmp_path / "fuzzed-org.yaml"
    path.write_bytes(payload if isinstance(payload, bytes) else payload.encode("utf-8"))
    expected = check_organisation(path.read_bytes(), "cli import-org")
    if isinstance(expected, Organisation):
        return  # a valid file would be imported: the database is not what this test is about
    # a database the command never reaches: the file is refused before it is opened
    monkeypatch.setenv("PINGAN_DATABASE_URL", f"sqlite:///{tmp_path / 'never-opened.sqlite'}")
    result = CliRunner().invoke(cli, ["import-org", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    first, *details = result.stderr.rstrip("\n").split("\n")
    assert re.match(rf"error: {re.escape(str(path))}:\d+: ", first), first
    assert len(details) == len(expected.problems) - 1
    assert all(line.startswith(f"  {path}:") for line in details), details
    assert not (tmp_path / "never-opened.sqlite").exists()


def test_a_key_holding_a_line_break_is_still_one_line_per_problem(tmp_path):
    """Found by the fuzzing above: a key with a line break in it printed its problem on two
    lines, which a reader (or a script counting them) takes for two problems."""
    path = tmp_path / "key-with-a-line-break.yaml"
    path.write_text(DEFINITION_TEXTS[0] + '\n"ti\\ntle\\u2028x": 1\n', encoding="utf-8")
    expected = check_definition(path.read_bytes(), "a key with a line break")
    assert not isinstance(expected, Definition)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.rstrip("\n").split("\n")
    assert len(lines) == len(expected.problems)
    assert any("ti\\ntle\\u2028x" in line for line in lines), lines
