"""Definition files: what a valid one becomes, and how every mistake is named by file, line and key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.support.paths import SHIPPED
from tests.support.texts import RAILWAY_FILE
from webapp.config import Settings
from workflow.definitions.plan import Due
from workflow.definitions.reader import (
    DefinitionError,
    DefinitionNotFound,
    EscalationLevel,
    Role,
    TaskSpec,
    definition_folders,
    find_definition,
    load_definition_file,
    parse_definition,
)
from workflow.durations import Duration

SCHEMA = SHIPPED / "schema.json"

# line numbers below refer to this text: keep it as it is, change copies of it
VALID = """\
id: safe-test
version: 1
title: 平安测试
roles:
  - {id: leader, title: 组长}
  - {id: office_director, title: 办公室主任}
  - {id: village_head, title: 村负责人, scope: unit}
phases:
  - id: mobilization
    title: 宣传发动阶段
    duration: 30d
    tasks:
      - {id: plan, title: 制定计划, assignee: village_head, per: unit, due: 14d}
      - {id: meeting, title: 召开动员大会, assignee: office_director, due: 7d}
  - id: implementation
    title: 全面实施阶段
    recurring:
      - {id: three-ones, title: 三个一, assignee: office_director, every: quarter, on: 1, due: 10d}
escalation:
  levels:
    - {after: 0d, notify: [responsible, office_director]}
    - {after: 3wd, notify: [leader]}
"""


def problems(text: str | bytes) -> list[str]:
    """The problems `pingan validate bad.yaml` would print for ``text``."""
    with pytest.raises(DefinitionError) as raised:
        parse_definition(text, "bad.yaml")
    return [str(problem) for problem in raised.value.problems]


def changed(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


# --- a valid definition -------------------------------------------------------------------------


def test_the_design_example_parses_into_the_specs_the_engine_runs():
    railway = load_definition_file(RAILWAY_FILE)

    assert (railway.id, railway.version, railway.title, railway.timezone) == (
        "safe-railway",
        1,
        "平安铁路创建活动",
        "Asia/Shanghai",
    )
    assert railway.roles == (
        Role("leader", "组长", "group", False, None),
        Role("deputy", "副组长", "group", False, None),
        Role("office_director", "办公室主任", "group", False, None),
        Role("village_head", "村负责人", "unit", False, None),
    )
    assert railway.phase_ids() == ("mobilization", "implementation", "inspection", "summary")
    mobilization = railway.phase("mobilization")
    assert (mobilization.title, mobilization.duration) == ("宣传发动阶段", Duration(30, "d"))
    assert mobilization.tasks == (
        TaskSpec(
            "plan",
            "制定创建活动计划",
            "village_head",
            "unit",
            Due(after=Duration(14, "d")),
            True,
            None,
            None,
        ),
    )
    screening = railway.phase("implementation").recurring[0]
    assert (
        screening.id,
        screening.assignee,
        screening.per,
        screening.every,
        screening.on,
        screening.due,
    ) == ("screening", "village_head", "unit", "quarter", None, Duration(10, "d"))
    assert railway.escalation is not None
    assert dict(railway.escalation.deadline_by_severity) == {
        "major": Duration(5, "wd"),
        "minor": Duration(15, "wd"),
    }
    assert railway.escalation.remind_before == Duration(2, "wd")
    assert railway.escalation.levels == (
        EscalationLevel(Duration(0, "d"), ("responsible", "office_director"), None),
        EscalationLevel(Duration(3, "wd"), ("deputy",), None),
        EscalationLevel(Duration(7, "wd"), ("leader",), None),
    )
    assert railway.source == str(RAILWAY_FILE)


def test_what_the_file_leaves_out_takes_its_default():
    definition = parse_definition(VALID.replace("    title: 全面实施阶段\n", ""), "ok.yaml")

    assert definition.timezone == "Asia/Shanghai"
    assert definition.role("leader").scope == "group" and not definition.role("leader").required
    assert definition.coordinators == ("leader", "office_director"), (
        "those of leader, deputy, office_director declared"
    )
    meeting = definition.phase("mobilization").tasks[1]
    assert (meeting.per, meeting.required) == ("campaign", True)
    assert definition.phase("implementation").title == "implementation", (
        "an untitled phase is called by its id"
    )
    assert definition.phase("implementation").duration is None
    assert parse_definition(VALID.split("escalation:")[0], "ok.yaml").escalation is None


def test_optional_keys_are_kept():
    text = changed(
        "title: 平安测试\n",
        "title: 平安测试\ntitle_en: Safe test\ndescription: 测试用\n"
        "timezone: Europe/Berlin\ncoordinators: [office_director]\n",
    )
    text = text.replace(
        "{id: leader, title: 组长}", "{id: leader, title: 组长, title_en: Leader, required: true}"
    )
    text = text.replace(
        "every: quarter, on: 1,", "every: week, on: wednesday, required: false, description: 每周,"
    )
    text = text.replace("notify: [leader]}", "notify: [leader], colour: red}")
    definition = parse_definition(text, "ok.yaml")

    assert (definition.title_en, definition.description, definition.timezone) == (
        "Safe test",
        "测试用",
        "Europe/Berlin",
    )
    assert definition.coordinators == ("office_director",)
    assert definition.role("leader") == Role("leader", "组长", "group", True, "Leader")
    duty = definition.phase("implementation").recurring[0]
    assert (duty.every, duty.on, duty.required, duty.description) == (
        "week",
        "wednesday",
        False,
        "每周",
    )
    assert definition.escalation.levels[1].colour == "red"


def test_a_cron_expression_is_a_valid_schedule():
    text = changed("every: quarter, on: 1,", "every: '0 9 * * wed',")
    assert (
        parse_definition(text, "ok.yaml").phase("implementation").recurring[0].every
        == "0 9 * * wed"
    )


def test_phases_are_navigated_in_order_and_needed_roles_are_listed():
    railway = load_definition_file(RAILWAY_FILE)

    assert railway.next_phase("mobilization") == "implementation"
    assert railway.next_phase("summary") is None
    assert railway.referenced_roles() == {"village_head", "office_director", "deputy", "leader"}
    with pytest.raises(KeyError):
        railway.phase("nowhere")
    with pytest.raises(KeyError):
        railway.role("nobody")


def test_the_content_hash_is_the_sha256_of_the_exact_text():
    from_text = parse_definition(VALID, "ok.yaml")
    from_bytes = parse_definition(VALID.encode("utf-8"), "ok.yaml")

    assert from_text.text == VALID
    assert (
        from_text.content_hash
        == from_bytes.content_hash
        == hashlib.sha256(VALID.encode("utf-8")).hexdigest()
    )
    assert (
        parse_definition(VALID + "# a comment\n", "ok.yaml").content_hash != from_text.content_hash
    )


# --- every mistake named by file, line and key --------------------------------------------------


def test_an_unknown_key_is_named_at_its_line_with_a_suggestion():
    assert problems(changed("    duration: 30d\n", "    duration: 30d\n    titel: x\n")) == [
        "bad.yaml:12: phases[0].titel: unknown key 'titel' (did you mean 'title'?)",
    ]


def test_an_unknown_key_without_a_close_match_lists_the_allowed_ones():
    assert problems(
        changed("{id: leader, title: 组长}", "{id: leader, title: 组长, colour: red}")
    ) == [
        "bad.yaml:5: roles[0].colour: unknown key 'colour' "
        "(allowed: id, title, title_en, description, scope, required)",
    ]


def test_missing_top_level_keys_are_named_at_the_document():
    assert problems("roles: []\n") == [
        "bad.yaml:1: missing 'id'",
        "bad.yaml:1: missing 'version'",
        "bad.yaml:1: missing 'title'",
        "bad.yaml:1: missing 'phases'",
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("{id: leader, title: 组长}", "{id: leader}", "bad.yaml:5: roles[0]: missing 'title'"),
        ("  - id: implementation\n", "  - duration: 5d\n", "bad.yaml:15: phases[1]: missing 'id'"),
        (
            ", assignee: office_director, due: 7d}",
            ", due: 7d}",
            "bad.yaml:14: phases[0].tasks[1]: missing 'assignee'",
        ),
        (
            "{id: plan, title: 制定计划, ",
            "{id: plan, ",
            "bad.yaml:13: phases[0].tasks[0]: missing 'title'",
        ),
        ("every: quarter, on: 1, ", "", "bad.yaml:18: phases[1].recurring[0]: missing 'every'"),
        (
            "{after: 3wd, notify: [leader]}",
            "{after: 3wd}",
            "bad.yaml:22: escalation.levels[1]: missing 'notify'",
        ),
    ],
)
def test_a_missing_required_key_is_named_at_its_mapping(old, new, expected):
    assert problems(changed(old, new)) == [expected]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "title: 平安测试",
            "title: [平安, 测试]",
            "bad.yaml:3: title: expected a string, found a list",
        ),
        (
            "    tasks:\n",
            "    tasks: {}\n    old_tasks:\n",
            "bad.yaml:12: phases[0].tasks: expected a list, found a mapping",
        ),
        (
            "per: unit, due: 14d}",
            "per: unit, due: 14d, required: maybe}",
            "bad.yaml:13: phases[0].tasks[0].required: expected true or false, found a string",
        ),
        (
            "scope: unit}",
            "scope: village}",
            "bad.yaml:7: roles[2].scope: expected one of group, unit; found 'village'",
        ),
    ],
)
def test_a_value_of_the_wrong_type_says_what_was_expected(old, new, expected):
    assert expected in problems(changed(old, new))


def test_a_duplicate_mapping_key_points_at_the_first():
    assert problems(changed("title: 平安测试\n", "title: 平安测试\ntitle: 又一个\n")) == [
        "bad.yaml:4: title: duplicate key 'title' (first at line 3)",
    ]


def test_a_duplicate_role_id_points_at_the_first():
    assert problems(
        changed("{id: office_director, title: 办公室主任}", "{id: leader, title: 副组长}")
    ) == [
        "bad.yaml:6: roles[1].id: duplicate role id 'leader' (first at line 5)",
        "bad.yaml:14: phases[0].tasks[1].assignee: unknown role 'office_director' "
        "(declared roles: leader, village_head)",
        "bad.yaml:18: phases[1].recurring[0].assignee: unknown role 'office_director' "
        "(declared roles: leader, village_head)",
        "bad.yaml:21: escalation.levels[0].notify[1]: unknown role 'office_director' "
        "(declared roles: leader, village_head)",
    ]


def test_a_duplicate_phase_id_points_at_the_first():
    assert problems(changed("  - id: implementation", "  - id: mobilization")) == [
        "bad.yaml:15: phases[1].id: duplicate phase id 'mobilization' (first at line 9)",
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "{id: meeting,",
            "{id: plan,",
            "bad.yaml:14: phases[0].tasks[1].id: duplicate id 'plan' (first at line 13)",
        ),
        (
            "{id: three-ones,",
            "{id: meeting,",
            "bad.yaml:18: phases[1].recurring[0].id: duplicate id 'meeting' (first at line 14)",
        ),
    ],
)
def test_task_and_duty_ids_are_unique_across_the_whole_definition(old, new, expected):
    assert problems(changed(old, new)) == [expected]


def test_an_assignee_that_is_no_declared_role_is_named():
    assert problems(
        changed("assignee: office_director, due: 7d", "assignee: office_chief, due: 7d")
    ) == [
        "bad.yaml:14: phases[0].tasks[1].assignee: unknown role 'office_chief' "
        "(declared roles: leader, office_director, village_head)",
    ]


def test_coordinators_and_escalation_must_name_declared_roles():
    text = changed("title: 平安测试\n", "title: 平安测试\ncoordinators: [leader, secretary]\n")
    text = text.replace("notify: [leader]}", "notify: [leader, deputy]}")
    assert problems(text) == [
        "bad.yaml:4: coordinators[1]: unknown role 'secretary' (declared roles: leader, office_director, village_head)",
        "bad.yaml:23: escalation.levels[1].notify[1]: unknown role 'deputy' "
        "(declared roles: leader, office_director, village_head)",
    ]


def test_a_unit_role_needs_one_task_per_unit():
    assert problems(changed("assignee: village_head, per: unit,", "assignee: village_head,")) == [
        "bad.yaml:13: phases[0].tasks[0].assignee: role 'village_head' is held in each sub-unit (scope: unit), "
        "so it needs 'per: unit' (one item per sub-unit); or assign a leading-group role",
    ]


@pytest.mark.parametrize(
    "due, shown",
    [
        ("30x", "'30x'"),
        ("-3x", "'-3x'"),
        ("--3d", "'--3d'"),
        ("1.5d", "'1.5d'"),
        ("1.5", "1.5"),
        ("14", "14"),
        ("100000d", "'100000d'"),
        ("014d", "'014d'"),
        ("2006-1-31", "'2006-1-31'"),
        ("31.01.2006", "'31.01.2006'"),
    ],
)
def test_a_bad_due_says_how_to_write_one(due, shown):
    assert problems(changed("due: 14d", f"due: {due}")) == [
        f"bad.yaml:13: phases[0].tasks[0].due: bad due {shown}: write 14d or 5wd (after the phase "
        f"starts), -5d (before the phase ends) or a date such as 2006-01-31",
    ]


@pytest.mark.parametrize(
    "duration, shown",
    [("30x", "'30x'"), ("-3d", "'-3d'"), ("14", "14"), ("2006-01-31", "'2006-01-31'")],
)
def test_a_bad_duration_says_how_to_write_one(duration, shown):
    assert problems(changed("duration: 30d", f"duration: {duration}")) == [
        f"bad.yaml:11: phases[0].duration: bad duration {shown}: write a whole number followed by "
        f"d (calendar days) or wd (working days), e.g. 30d or 5wd",
    ]


def test_bad_durations_are_found_in_phases_and_escalation_too():
    text = changed("duration: 30d", "duration: 30 days").replace("after: 3wd", "after: 3w")
    assert [p.split(": bad duration")[0] for p in problems(text)] == [
        "bad.yaml:11: phases[0].duration",
        "bad.yaml:22: escalation.levels[1].after",
    ]


def test_a_schedule_that_is_neither_keyword_nor_cron_is_refused():
    assert problems(changed("every: quarter", "every: fortnightly")) == [
        "bad.yaml:18: phases[1].recurring[0].every: bad schedule 'fortnightly': "
        "write week, month, quarter, year or a 5-field cron expression such as '0 9 * * wed'",
    ]


def test_a_cron_expression_apscheduler_rejects_gives_its_reason():
    assert problems(changed("every: quarter, on: 1,", "every: '61 9 * * wed',")) == [
        "bad.yaml:18: phases[1].recurring[0].every: bad cron expression '61 9 * * wed': "
        "Error validating expression '61': the last value (61) is higher than the maximum value (59)",
    ]


@pytest.mark.parametrize(
    "schedule, message",
    [
        ("every: week, on: 15", "every: week starts on a weekday (monday … sunday), not 15"),
        (
            "every: month, on: friday",
            "every: month starts on a day of the month (1 … 31), not 'friday'",
        ),
        ("every: '0 9 * * wed', on: 3", "a cron expression already says when: remove 'on'"),
        (
            "every: month, on: 32",
            "bad day 32: write a weekday (monday … sunday) or a day of the month (1 … 31)",
        ),
        (
            "every: week, on: Friday",
            "bad day 'Friday': write a weekday (monday … sunday) or a day of the month (1 … 31)",
        ),
    ],
)
def test_on_must_fit_the_schedule(schedule, message):
    assert problems(changed("every: quarter, on: 1", schedule)) == [
        f"bad.yaml:18: phases[1].recurring[0].on: {message}",
    ]


def test_a_definition_without_phases_is_refused():
    assert problems(VALID.split("phases:")[0] + "phases: []\n") == [
        "bad.yaml:8: phases: must not be empty"
    ]


@pytest.mark.parametrize("reserved", ["draft", "closed"])
def test_the_campaigns_own_states_are_no_phase_ids(reserved):
    assert problems(changed("  - id: implementation", f"  - id: {reserved}")) == [
        f"bad.yaml:15: phases[1].id: reserved phase id '{reserved}': "
        f"'draft' and 'closed' are the campaign's own states; choose another id",
    ]


def test_an_id_that_is_no_slug_says_how_to_write_one():
    assert problems(changed("id: safe-test", "id: Safe Test")) == [
        "bad.yaml:1: id: bad id 'Safe Test': write lower-case letters, digits, '-' or '_', "
        "starting with a letter (e.g. safe-railway)",
    ]


def test_a_phase_id_that_is_a_list_is_named_not_a_crash_and_the_cascade_names_the_known_phases():
    broken = changed("  - id: implementation", "  - id: [implementation]")
    assert problems(broken + "cascade: {when: summary}\n") == [
        "bad.yaml:15: phases[1].id: bad id ['implementation']: write lower-case letters, digits, "
        "'-' or '_', starting with a letter (e.g. safe-railway)",
        "bad.yaml:23: cascade.when: unknown phase 'summary' (phases: mobilization)",
    ]


def test_an_unknown_timezone_is_refused():
    assert problems(changed("title: 平安测试\n", "title: 平安测试\ntimezone: Asia/Beijing\n")) == [
        "bad.yaml:4: timezone: unknown timezone 'Asia/Beijing' (use an IANA name such as Asia/Shanghai)",
    ]


@pytest.mark.parametrize(
    "version, shown", [("0", "0"), ("-1", "-1"), ("'1'", "'1'"), ("1.5", "1.5"), ("true", "True")]
)
def test_the_version_is_a_positive_whole_number(version, shown):
    assert problems(changed("version: 1", f"version: {version}")) == [
        f"bad.yaml:2: version: bad version {shown}: write a whole number from 1 up",
    ]


def test_several_problems_are_reported_together_by_line():
    text = (
        changed("version: 1", "version: 0")
        .replace("due: 14d", "due: 2w")
        .replace("assignee: office_director, due: 7d", "assignee: office_chief, due: 7d")
        .replace("every: quarter", "every: often")
    )
    with pytest.raises(DefinitionError) as raised:
        parse_definition(text, "bad.yaml")

    assert [(p.line, p.key) for p in raised.value.problems] == [
        (2, "version"),
        (13, "phases[0].tasks[0].due"),
        (14, "phases[0].tasks[1].assignee"),
        (18, "phases[1].recurring[0].every"),
    ]
    assert (
        str(raised.value)
        == "bad.yaml:2: version: bad version 0: write a whole number from 1 up (and 3 more)"
    )


def test_levels_must_come_in_order_of_after():
    assert problems(changed("{after: 0d,", "{after: 5wd,")) == [
        "bad.yaml:22: escalation.levels[1].after: levels must come in order of 'after': 3wd comes after 5wd",
    ]


# --- files that are not YAML definitions at all -------------------------------------------------


def test_a_yaml_syntax_error_is_located():
    assert problems(changed("title: 宣传发动阶段", "title: [宣传发动阶段")) == [
        "bad.yaml:11: YAML syntax error: while parsing a flow sequence, expected ',' or ']', but got ':'",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "bad.yaml:1: the file is empty"),
        ("# nothing but a comment\n", "bad.yaml:1: the file is empty"),
        (
            "- id: x\n",
            "bad.yaml:1: expected a mapping of keys at the top of the file, found a list",
        ),
        (
            "just words\n",
            "bad.yaml:1: expected a mapping of keys at the top of the file, found a string",
        ),
        (
            "id: a\n---\nid: b\n",
            "bad.yaml:2: YAML syntax error: expected a single document in the stream, "
            "but found another document",
        ),
        (
            b"id: x\ntitle: \xff\n",
            "bad.yaml:2: not UTF-8 text (byte 0xff at offset 13): save the file as UTF-8",
        ),
        (
            "id: !!python/object/apply:os.system [ls]\n",
            "bad.yaml:1: id: unsupported YAML: the tag !!python/object/apply:os.system is not supported here",
        ),
    ],
)
def test_what_is_no_definition_at_all_is_one_located_problem(text, expected):
    assert problems(text) == [expected]


def test_an_unreadable_file_is_a_definition_error_naming_it(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(DefinitionError) as raised:
        load_definition_file(missing)
    assert str(raised.value) == f"{missing}: cannot read the file: No such file or directory"


def test_problems_name_the_file_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(changed("version: 1", "version: 0"), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^bad\.yaml:2: version: "):
        load_definition_file("bad.yaml")


def test_yaml_anchors_and_merge_keys_may_share_task_settings():
    text = changed(
        "    tasks:\n",
        "    tasks:\n      - &base {id: base, title: 基础, assignee: leader, due: 3d}\n"
        "      - {<<: *base, id: derived}\n",
    )
    tasks = parse_definition(text, "ok.yaml").phase("mobilization").tasks
    assert [(t.id, t.assignee, t.due) for t in tasks[:2]] == [
        ("base", "leader", Due(after=Duration(3, "d"))),
        ("derived", "leader", Due(after=Duration(3, "d"))),
    ]


def test_on_is_a_key_not_yaml_11s_boolean():
    duty = parse_definition(VALID, "ok.yaml").phase("implementation").recurring[0]
    assert duty.on == 1


# --- the JSON schema editors use ----------------------------------------------------------------


def test_the_schema_is_valid_draft_2020_12():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_design_example_validates_against_the_schema_with_jsonschema_alone():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(yaml.safe_load(RAILWAY_FILE.read_text(encoding="utf-8")))
    Draft202012Validator(schema).validate(yaml.safe_load(VALID.replace("on: 1, ", "")))


def test_every_schema_property_has_help_and_every_object_is_closed():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    def described(subschema):
        target = subschema
        if "$ref" in subschema and "description" not in subschema:
            target = schema["$defs"][subschema["$ref"].rsplit("/", 1)[-1]]
        return "description" in target

    objects = [schema, *(d for d in schema["$defs"].values() if d.get("type") == "object")]
    objects += [p for d in objects for p in d["properties"].values() if p.get("type") == "object"]
    for obj in objects:
        assert obj.get("additionalProperties") is False, obj.get("title")
        for name, subschema in obj["properties"].items():
            assert described(subschema), f"{obj.get('title')}.{name} has no description"


# --- finding a definition by path or by id ------------------------------------------------------


def write_definition(folder: Path, name: str, definition_id: str, version: int) -> Path:
    path = folder / name
    path.write_text(
        VALID.replace("id: safe-test", f"id: {definition_id}").replace(
            "version: 1", f"version: {version}"
        ),
        encoding="utf-8",
    )
    return path


def test_a_path_to_a_file_is_that_file():
    assert find_definition(str(RAILWAY_FILE)) == RAILWAY_FILE


def test_an_id_is_found_in_the_folders_of_the_definitions_path(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    write_definition(first, "a.yaml", "other", 1)
    wanted = write_definition(second, "b.yaml", "safe-test", 1)
    monkeypatch.setenv("PINGAN_DEFINITIONS_PATH", f"{first}:{second}")

    assert (
        find_definition(
            "safe-test", search_path=definition_folders(Settings.from_env().definitions_path)
        )
        == wanted
    )


def test_the_highest_version_is_chosen_unless_one_is_asked_for(tmp_path):
    v1 = write_definition(tmp_path, "v1.yaml", "safe-test", 1)
    v3 = write_definition(tmp_path, "v3.yaml", "safe-test", 3)
    write_definition(tmp_path, "v2.yaml", "safe-test", 2)

    assert find_definition("safe-test", search_path=[tmp_path]) == v3
    assert find_definition("safe-test", 1, search_path=[tmp_path]) == v1


def test_a_missing_version_lists_the_versions_there_are(tmp_path):
    write_definition(tmp_path, "v1.yaml", "safe-test", 1)
    write_definition(tmp_path, "v2.yaml", "safe-test", 2)

    with pytest.raises(DefinitionNotFound) as raised:
        find_definition("safe-test", 5, search_path=[tmp_path])
    assert str(raised.value) == "definition 'safe-test' has no version 5 (versions found: 1, 2)"


def test_an_unknown_id_is_not_found_and_broken_files_are_skipped(tmp_path, monkeypatch):
    (tmp_path / "broken.yaml").write_text("id: [nope\n", encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes(b"id: caf\xe9\n")
    monkeypatch.setenv("PINGAN_DEFINITIONS_PATH", str(tmp_path))

    with pytest.raises(DefinitionNotFound) as raised:
        find_definition(
            "no-such-definition",
            search_path=definition_folders(Settings.from_env().definitions_path),
        )
    message = str(raised.value)
    assert message.startswith(
        "no definition 'no-such-definition': not a file, and no definition with that id in "
    )
    assert str(tmp_path) in message and "\n" not in message
    assert isinstance(raised.value, DefinitionError)
