"""Every shipped definition and sample organisation is valid and matches the published schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.support.paths import SHIPPED
from tests.support.texts import as_editors_read
from workflow.definitions.reader import find_definition, load_definition_file
from workflow.organisation.org_file import load_organisation_file

DEFINITIONS = sorted(SHIPPED.glob("*.yaml"))


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_each_shipped_definition_validates_and_matches_the_schema(path):
    definition = load_definition_file(path)
    schema = json.loads((SHIPPED / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(
        as_editors_read(path.read_text(encoding="utf-8"))
    )
    assert find_definition(definition.id) == path


@pytest.mark.parametrize("path", sorted((SHIPPED / "org").glob("*.yaml")), ids=lambda p: p.name)
def test_each_sample_organisation_loads(path):
    organisation = load_organisation_file(path)
    assert organisation.units and organisation.people


def test_there_is_at_least_the_standard_template():
    assert "standard.yaml" in [p.name for p in DEFINITIONS]
