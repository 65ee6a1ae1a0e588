"""What a definition proposes where its text is silent (建议值): listed by `pingan validate
--proposals` with file and line, in every shipped seed (issue 17, item 6)."""

from __future__ import annotations

import pytest

from tests.support.paths import SHIPPED
from workflow.definitions.proposals import proposals_of
from workflow.definitions.reader import load_definition_file

SEEDS = ("safe-railway", "safe-tobacco", "safe-family", "safe-unit-district", "safe-unit-lingtai")


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url  # nothing here depends on the database


def test_validate_lists_the_railway_s_control_numbers_and_invented_cadences(pingan):
    path = SHIPPED / "safe-railway.yaml"
    result = pingan("validate", "--proposals", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    listed = {line.split(" (", 1)[1].split(")", 1)[0] for line in lines if "建议值" in line}
    assert {
        "vehicle-accident-control",  # the control numbers, which the higher level hands down
        "cattle-blocking-control",
        "off-railway-casualty-control",
        "section-patrol",  # monthly, where the text gives no cadence
        "crossing-keepers",
        "scrap-dealers",  # quarterly, where the text says 定期
        "escalation",  # the hazard deadlines
        "assessment",  # the points
        "mass-incident",  # 1 hour for 立即报告, 24 hours for 及时报告
        "petitioners-gathering",
        "train-hazard",
        "crime-clue",
    } == listed
    text = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        if "建议值" in line:
            number = int(line.split(":", 2)[1])
            assert text[number - 1].strip().startswith("proposal:"), line
    assert "原文为“定期进行清理检查”：每季度一次为建议值。" in result.stdout
    assert lines[-1] == f"{path}: 12 proposal(s)"


def test_without_the_flag_validate_lists_none(pingan):
    result = pingan("validate", str(SHIPPED / "safe-railway.yaml"))
    assert "建议值" not in result.stdout


@pytest.mark.parametrize("slug", SEEDS)
def test_every_seed_marks_its_points_and_hazard_deadlines_as_proposals(slug):
    definition = load_definition_file(SHIPPED / f"{slug}.yaml")
    marked = {proposal.path for proposal in proposals_of(definition)}
    assert {"assessment", "escalation"} <= marked
    assert definition.assessment.proposal, "the report shows the points as 建议值"


def test_a_proposal_must_say_what_the_text_says(pingan, tmp_path):
    bad = tmp_path / "bad.yaml"
    shipped = (SHIPPED / "safe-railway.yaml").read_text(encoding="utf-8")
    bad.write_text(
        shipped.replace(
            "  proposal: 原文未规定分值：各项分值、扣分和等次线为建议值。", "  proposal: ''"
        ),
        encoding="utf-8",
    )
    result = pingan("validate", "--proposals", str(bad))
    assert result.exit_code == 1
    assert "assessment.proposal" in result.stderr
