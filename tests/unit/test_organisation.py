"""Organisation files: units, key sites and people, and how every mistake is named by file, line and key."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.support.paths import SHIPPED
from tests.support.texts import TOWN_FILE
from workflow.organisation.org_file import (
    OrganisationError,
    PersonSpec,
    SiteSpec,
    UnitSpec,
    load_organisation_file,
    parse_organisation,
)
from workflow.sourcefile import SourceError

SCHEMA = SHIPPED / "org-schema.json"

# line numbers below refer to this text: keep it as it is, change copies of it
VALID = """\
units:
  - id: town
    name: 铁路镇
    children:
      - id: east-village
        name: 东村
        sites:
          - {id: crossing-3, name: 3号道口, responsible: East@Example.org}
      - {id: west-village, name: 西村}
people:
  - {email: leader@example.org, name: 张组长, unit: town, roles: [leader]}
  - {email: ' East@Example.ORG ', name: 李村长, unit: east-village, roles: [village_head], password: change-me}
  - {email: west@example.org, name: 周村长, unit: west-village, roles: [village_head, deputy], title: 村支书}
"""


def problems(text: str | bytes) -> list[str]:
    """The problems `pingan import-org bad.yaml` would report for ``text``."""
    with pytest.raises(OrganisationError) as raised:
        parse_organisation(text, "bad.yaml")
    return [str(problem) for problem in raised.value.problems]


def changed(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


# --- a valid organisation -----------------------------------------------------------------------


def test_the_sample_town_has_three_villages_each_with_a_head():
    town = load_organisation_file(TOWN_FILE)

    assert [(u.id, u.parent) for u in town.units] == [
        ("town", None),
        ("east-village", "town"),
        ("west-village", "town"),
        ("north-village", "town"),
    ]
    heads = {p.unit: p.email for p in town.people if "village_head" in p.roles}
    assert heads == {
        "east-village": "east@example.org",
        "west-village": "west@example.org",
        "north-village": "north@example.org",
    }
    assert {p.roles[0] for p in town.people if p.unit == "town"} == {
        "leader",
        "deputy",
        "office_director",
    }
    assert [p.email for p in town.people if p.password] == ["east@example.org"]
    assert town.source == str(TOWN_FILE)


def test_units_are_flattened_parents_first_with_their_sites():
    organisation = parse_organisation(VALID, "town.yaml")

    assert organisation.units == (
        UnitSpec("town", "铁路镇", None, ()),
        UnitSpec(
            "east-village",
            "东村",
            "town",
            (SiteSpec("crossing-3", "3号道口", "east-village", "east@example.org"),),
        ),
        UnitSpec("west-village", "西村", "town", ()),
    )


def test_grandchildren_come_after_their_parents():
    text = changed(
        "      - {id: west-village, name: 西村}\n",
        "      - id: west-village\n        name: 西村\n        children:\n"
        "          - {id: west-school, name: 西村小学}\n",
    )
    organisation = parse_organisation(text, "town.yaml")
    assert [(u.id, u.parent) for u in organisation.units] == [
        ("town", None),
        ("east-village", "town"),
        ("west-village", "town"),
        ("west-school", "west-village"),
    ]


def test_people_are_known_by_their_lower_case_e_mail():
    people = parse_organisation(VALID, "town.yaml").people

    assert people[1] == PersonSpec(
        "east@example.org", "李村长", "east-village", ("village_head",), "change-me", None
    )
    assert people[2] == PersonSpec(
        "west@example.org", "周村长", "west-village", ("village_head", "deputy"), None, "村支书"
    )


def test_people_and_their_roles_may_be_left_out():
    organisation = parse_organisation("units:\n  - {id: town, name: 镇}\n", "town.yaml")
    assert organisation.people == ()
    assert parse_organisation(changed("roles: [leader]}", "}"), "town.yaml").people[0].roles == ()


# --- every mistake named by file, line and key --------------------------------------------------


def test_an_unknown_key_is_named_at_its_line():
    assert problems(changed("    name: 铁路镇\n", "    name: 铁路镇\n    nmae: x\n")) == [
        "bad.yaml:4: units[0].nmae: unknown key 'nmae' (did you mean 'name'?)",
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("    name: 铁路镇\n", "", "bad.yaml:2: units[0]: missing 'name'"),
        (
            "{id: west-village, name: 西村}",
            "{name: 西村}",
            "bad.yaml:9: units[0].children[1]: missing 'id'\nbad.yaml:13: people[2].unit: unknown unit 'west-village'",
        ),
        (
            "{id: crossing-3, name: 3号道口,",
            "{id: crossing-3,",
            "bad.yaml:8: units[0].children[0].sites[0]: missing 'name'",
        ),
        ("name: 张组长, unit: town,", "name: 张组长,", "bad.yaml:11: people[0]: missing 'unit'"),
        ("{email: leader@example.org, ", "{", "bad.yaml:11: people[0]: missing 'email'"),
    ],
)
def test_a_missing_field_is_named_at_its_mapping(old, new, expected):
    assert problems(changed(old, new)) == expected.splitlines()


def test_a_file_without_units_is_refused():
    assert problems("people: []\n") == ["bad.yaml:1: missing 'units'"]


def test_a_unit_id_is_unique_anywhere_in_the_tree():
    text = changed(
        "{id: west-village, name: 西村}",
        "{id: west-village, name: 西村, children: [{id: town, name: 镇}]}",
    )
    assert problems(text) == [
        "bad.yaml:9: units[0].children[1].children[0].id: duplicate unit id 'town' (first at line 2)"
    ]


def test_a_site_id_is_unique_in_the_file():
    text = changed(
        "{id: west-village, name: 西村}",
        "{id: west-village, name: 西村, sites: [{id: crossing-3, name: 道口}]}",
    )
    assert problems(text) == [
        "bad.yaml:9: units[0].children[1].sites[0].id: duplicate site id 'crossing-3' (first at line 8)",
    ]


def test_an_e_mail_is_unique_regardless_of_case():
    assert problems(changed("email: west@example.org", "email: LEADER@example.org")) == [
        "bad.yaml:13: people[2].email: duplicate e-mail 'leader@example.org' (first at line 11)",
    ]


def test_a_person_in_a_unit_that_does_not_exist_is_named():
    assert problems(changed("unit: west-village, roles", "unit: south-village, roles")) == [
        "bad.yaml:13: people[2].unit: unknown unit 'south-village'",
    ]


def test_a_site_whose_responsible_person_is_not_listed_is_named():
    assert problems(
        changed("responsible: East@Example.org", "responsible: nobody@example.org")
    ) == [
        "bad.yaml:8: units[0].children[0].sites[0].responsible: no person with e-mail 'nobody@example.org' under people",
    ]


@pytest.mark.parametrize(
    "email", ["leader", "leader@", "leader@example", "le ader@example.org", "a@b@example.org"]
)
def test_a_malformed_e_mail_is_refused(email):
    assert problems(changed("email: leader@example.org", f"email: '{email}'")) == [
        f"bad.yaml:11: people[0].email: bad e-mail address '{email}': write it as name@example.org",
    ]


def test_roles_are_a_list_of_role_ids():
    assert problems(changed("roles: [leader]", "roles: leader")) == [
        "bad.yaml:11: people[0].roles: expected a list, found a string",
    ]
    assert problems(changed("roles: [leader]", "roles: [Leader]")) == [
        "bad.yaml:11: people[0].roles[0]: bad role id 'Leader': write lower-case letters, digits, '-' or '_', "
        "starting with a letter (e.g. village_head)",
    ]


def test_a_password_that_yaml_reads_as_a_number_is_refused_without_showing_it():
    assert problems(changed("password: change-me", "password: 123456")) == [
        "bad.yaml:12: people[1].password: expected a string, found a whole number",
    ]


def test_a_duplicate_mapping_key_points_at_the_first():
    assert problems(changed("name: 张组长,", "name: 张组长, name: 张三,")) == [
        "bad.yaml:11: people[0].name: duplicate key 'name' (first at line 11)",
    ]


def test_several_problems_are_reported_together_by_line():
    text = (
        changed("unit: west-village, roles", "unit: nowhere, roles")
        .replace("email: leader@example.org", "email: leader")
        .replace("    name: 铁路镇\n", "    name: 铁路镇\n    extra: 1\n")
    )
    with pytest.raises(OrganisationError) as raised:
        parse_organisation(text, "bad.yaml")

    assert [(p.line, p.key) for p in raised.value.problems] == [
        (4, "units[0].extra"),
        (12, "people[0].email"),
        (14, "people[2].unit"),
    ]
    assert str(raised.value).endswith("(and 2 more)")
    assert isinstance(raised.value, SourceError)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "bad.yaml:1: the file is empty"),
        (
            "units: [\n",
            "bad.yaml:2: YAML syntax error: while parsing a flow node, expected the node content, "
            "but found '<stream end>'",
        ),
        ("- town\n", "bad.yaml:1: expected a mapping of keys at the top of the file, found a list"),
        (
            b"units:\n  - {id: town, name: \xd5\xf2}\n",
            "bad.yaml:2: not UTF-8 text (byte 0xd5 at offset 28): save the file as UTF-8",
        ),
    ],
)
def test_what_is_no_organisation_file_at_all_is_one_located_problem(text, expected):
    assert problems(text) == [expected]


def test_an_unreadable_file_is_an_organisation_error_naming_it(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(OrganisationError) as raised:
        load_organisation_file(missing)
    assert str(raised.value) == f"{missing}: cannot read the file: No such file or directory"


# --- the JSON schema editors use ----------------------------------------------------------------


def test_the_organisation_schema_is_valid_and_accepts_the_sample_town():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(yaml.safe_load(TOWN_FILE.read_text(encoding="utf-8")))
