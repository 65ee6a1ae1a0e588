"""Campaigns at every level from the command line (issue 20): a county's start cascades with the
definitions of PINGAN_DEFINITIONS_PATH, and `pingan join` starts a village added since, once."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.support.levels import COUNTY, COUNTY_ORG, write_level_definitions
from workflow.models import AuditEvent, Campaign, Unit

WITH_E3 = COUNTY_ORG.replace(
    "          - {id: e2, name: 东二村}\n",
    "          - {id: e2, name: 东二村}\n          - {id: e3, name: 东三村}\n",
) + (
    "  - {email: e3-head@example.org, name: 东三村书记, unit: e3, roles: [leader]}\n"
    "  - {email: e3-office@example.org, name: 东三村治保主任, unit: e3, roles: [office_director]}\n"
)


def test_a_county_cascades_and_a_village_added_since_joins_once(
    pingan, tmp_path, monkeypatch, db_url
):
    folders = write_level_definitions(tmp_path / "definitions")
    monkeypatch.setenv("PINGAN_DEFINITIONS_PATH", str(folders[0]))
    (tmp_path / "org.yaml").write_text(COUNTY_ORG, encoding="utf-8")
    (tmp_path / "county.yaml").write_text(COUNTY, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "org.yaml")).exit_code == 0
    started = pingan(
        "start", str(tmp_path / "county.yaml"), "--org", "county", "--starts", "2026-05-04"
    )
    assert started.exit_code == 0, started.output
    county = int(started.stdout.strip().splitlines()[-1])

    engine = create_engine(db_url)
    with Session(engine) as session:
        east = session.scalar(
            select(Campaign.id)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(Unit.code == "east-town")
        )
        assert session.query(Campaign).filter(Campaign.parent_id.is_not(None)).count() == 5

    (tmp_path / "org.yaml").write_text(WITH_E3, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "org.yaml")).exit_code == 0
    joined = pingan("join", str(east), "e3")
    assert joined.exit_code == 0, joined.output
    child = int(joined.stdout.strip())
    again = pingan("join", str(east), "e3")
    assert again.exit_code == 1
    assert again.stderr == f"error: unit 'e3' already runs its campaign under campaign {east}\n"
    refused = pingan("join", str(county), "e3")
    assert refused.exit_code == 1 and "is not a sub-unit of the campaign's unit" in refused.stderr

    with Session(engine) as session:
        assert session.get(Campaign, child).parent_id == east
        assert session.scalars(
            select(AuditEvent.note).where(AuditEvent.event == "late child")
        ).all() == [f"campaign {child} started late for e3"]
    engine.dispose()
