"""The town whose crossing keeper holds no role but a hazard (issue 15): what the menus, the campaign page and the
escalation log show each person, in Chinese and in English.

``TOWN_WITH_KEEPER``: 3号道口 is kept by 陈道口看守, who holds no role in the campaign. The campaign is ``SCREENING``
with the English titles a definition may give (``title_en``), started 2026-09-10 like the ``hazard_campaign``
fixture. On 2026-09-21 a hazard at 3号道口 is registered (the keeper's, due 09-29) and one of east's head (due 10-30);
by 2026-09-30 00:30 the keeper's has reached level 1: he and the office director were told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from tests.support.actions import BASE_URL, OPERATOR, register
from tests.support.clock import shanghai
from tests.support.texts import SCREENING, TOWN_WITH_KEEPER
from tests.support.web import give_everyone_a_password
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import FixedClock
from workflow.definitions.reader import parse_definition
from workflow.escalation.levels import escalate_due
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

# SCREENING with the English twins of its title, its first phase and its task
BILINGUAL_SCREENING = (
    SCREENING.replace(
        "title: 平安铁路创建活动\n", "title: 平安铁路创建活动\ntitle_en: Safe Railway campaign\n", 1
    )
    .replace(
        "    title: 全面实施阶段\n", "    title: 全面实施阶段\n    title_en: Implementation\n", 1
    )
    .replace("title: 隐患排查,", "title: 隐患排查, title_en: Hazard screening,", 1)
)
TITLE, TITLE_EN = "平安铁路创建活动", "Safe Railway campaign"
KEEPER_HAZARD, EAST_HAZARD = "道口栏杆油漆剥落", "村道旁电线裸露"
KEEPER, EAST, LEADER, OFFICE = (
    "keeper@example.org",
    "east@example.org",
    "leader@example.org",
    "office@example.org",
)
NOW = shanghai(2026, 9, 30, 9)  # where the pages are looked at


@dataclass(frozen=True)
class KeeperTown:
    campaign: int
    hazards: dict[str, int]  # responsible person's e-mail → their hazard's rectification id


def build_keeper_town(sessions: sessionmaker[Session], calendar: WorkingCalendar) -> KeeperTown:
    """The organisation (everyone with the tests' password), the campaign, both hazards, the escalations."""
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_KEEPER, "org.yaml"))
        give_everyone_a_password(session)
        campaign = start_campaign(
            session,
            parse_definition(BILINGUAL_SCREENING, "def.yaml"),
            "town",
            date(2026, 9, 10),
            by=OPERATOR,
            clock=FixedClock(shanghai(2026, 9, 10, 9)),
            calendar=calendar,
        ).id
    registered = shanghai(2026, 9, 21, 10)
    hazards = {
        # at 3号道口: its keeper is the responsible person
        KEEPER: register(
            sessions,
            campaign,
            calendar,
            registered,
            description=KEEPER_HAZARD,
            deadline=date(2026, 9, 29),
        ),
        EAST: register(
            sessions,
            campaign,
            calendar,
            registered,
            description=EAST_HAZARD,
            unit="east-village",
            site=None,
            responsible=EAST,
            deadline=date(2026, 10, 30),
        ),
    }
    for _ in range(3):  # each pass takes an item one step: the reminder, then level 1
        with sessions.begin() as session:
            escalate_due(session, shanghai(2026, 9, 30, 0, 30), calendar, base_url=BASE_URL)
    return KeeperTown(campaign, hazards)
