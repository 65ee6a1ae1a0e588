"""`pingan incident record` and `pingan incident reported`: the railway's 上访群众向铁路集结, reported to
the railway department and the police, on the command line (issue 17, item 4)."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.support.paths import SHIPPED
from workflow.db import create_db_engine, session_factory
from workflow.models import AuditEvent, OutsideReport

OFFICE = "office@liuhe.example.org"


def test_an_incident_and_its_reports_are_recorded_and_bad_ones_refused(pingan, db_url):
    assert pingan("import-org", str(SHIPPED / "org" / "railway-town.yaml")).exit_code == 0
    started = pingan("start", "safe-railway", "--org", "liuhe-town", "--starts", "2026-04-20")
    campaign = started.stdout.strip()
    recorded = pingan(
        "incident", "record", campaign, "--kind", "petitioners-gathering",
        "--unit", "liuhe-qianying", "--date", "2026-05-01",
        "--description", "二十余名上访群众向柳河站集结", "--as", OFFICE,
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    incident = recorded.stdout.split()[1].rstrip(":")

    told = pingan(
        "incident", "reported", incident, "--to", "铁路部门", "--at", "2026-05-01 08:40",
        "--note", "电话报柳河站值班室", "--as", OFFICE,
    )  # fmt: skip
    assert told.exit_code == 0, told.output
    assert told.stdout.strip() == (
        f"incident {incident}: reported to 铁路部门 at 2026-05-01 08:40 (the campaign's clock)"
    )

    engine = create_db_engine(db_url)
    sessions = session_factory(engine)

    def counts() -> tuple[int, int]:
        with sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(OutsideReport)),
                session.scalar(select(func.count()).select_from(AuditEvent)),
            )

    before = counts()
    for args, message in [
        (("--to", "铁路局"), "error: '铁路局' is not a body this kind is reported to"),
        (("--to", "铁路部门"), "error: the report to 铁路部门 is already recorded (2026-05-01 08:40)"),
        (("--to", "公安机关", "--at", "yesterday"), "error: not a time: 'yesterday'"),
        (("--to", "公安机关", "--at", "2026-05-01 09:30"), "error: reported_at 2026-05-01T09:30:00+08:00 is in the future"),
    ]:  # fmt: skip
        refused = pingan("incident", "reported", incident, *args, "--as", OFFICE)
        assert refused.exit_code != 0
        assert refused.stderr.startswith(message), refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert counts() == before
    engine.dispose()
