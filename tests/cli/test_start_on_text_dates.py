"""`pingan start` of a shipped definition that carries its text's dates, on another day: it starts,
and a warning names the text's dates (README, "Campaign time as the texts write it")."""

from __future__ import annotations

from tests.support.paths import SHIPPED


def test_the_tobacco_campaign_started_in_2026_names_its_texts_dates(pingan):
    assert pingan("import-org", str(SHIPPED / "org" / "dingxi-branch.yaml")).exit_code == 0

    result = pingan("start", "safe-tobacco", "--org", "dingxi-tobacco", "--starts", "2026-01-05")

    assert result.exit_code == 0 and result.stdout.strip().isdigit()
    assert result.stderr.splitlines()[0] == (
        "warning: safe-tobacco: the text's dates are setup 2006-01-01 – 2006-01-31; mobilization … "
        "– 2006-05-31; implementation 2006-06-01 – 2008-09-30; summary 2008-10-01 – 2008-12-31; "
        "started on 2026-01-05, every date of the plan moves by 7309 day(s)"
    )


def test_on_the_texts_own_day_nothing_is_said_about_the_plan(pingan):
    assert pingan("import-org", str(SHIPPED / "org" / "railway-town.yaml")).exit_code == 0

    result = pingan("start", "safe-railway", "--org", "liuhe-town", "--starts", "2012-05-20")

    assert (result.exit_code, result.stderr) == (0, "")
