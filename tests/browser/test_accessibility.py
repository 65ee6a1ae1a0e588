"""Every page a village head, the office director, the leaders and a crossing keeper reach passes axe-core's
checks of WCAG 2.0 and 2.1 at levels A and AA, in Chinese and (a few pages) in English.

axe-core is vendored in tests/support/files/axe/ (a test asset: the app never serves it). The page's
Content-Security-Policy (script-src 'self') stays on: the browser is handed axe as if it were a script of the
site, and nothing else of the page changes. The violations that must remain are README's (Accessibility),
listed in ALLOWED by page and rule: any other one fails, and so does an allowance nothing needs any more.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support.actions import BASE_URL, OPERATOR
from tests.support.browser import sign_in
from tests.support.clock import shanghai
from tests.support.paths import ROOT
from tests.support.processes import serving
from tests.support.scenarios import Scenario, build_campaign_year
from tests.support.texts import ASSESSED_TOWN
from workflow.calendar import WorkingCalendar
from workflow.clock import FixedClock
from workflow.db import create_db_engine, session_factory
from workflow.escalation.sweep import run_sweep
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import Rectification, Task
from workflow.organisation.directory import import_organisation, person_by_email
from workflow.organisation.org_file import parse_organisation

pytestmark = pytest.mark.slow

AXE = ROOT / "tests" / "support" / "files" / "axe" / "axe.min.js"
# where the browser is told axe lives: on the site's own origin, so that script-src 'self' lets it run
AXE_PATH = "/__test__/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = 360  # CSS px: the narrowest phone the pages are made for
NOW = "2026-05-28T09:00"  # the campaign year (tests.support.scenarios), in its inspection phase
# the assessed town, and a keeper of a crossing in the east village who holds no role: the one kind of
# person who only ever sees what is theirs
TOWN_WITH_A_KEEPER = ASSESSED_TOWN.replace(
    "      - {id: east, name: 东村}",
    "      - id: east\n        name: 东村\n        sites:\n"
    "          - {id: crossing-3, name: 3号道口, responsible: keeper@example.org}",
).replace(
    "people:\n",
    "people:\n  - {email: keeper@example.org, name: 陈道口看守, unit: east, roles: []}\n",
)
# every mark that has a colour (WCAG 1.4.1): an escalation level's badge, a unit's standing and its counts,
# a late or due-soon word, grades, targets, the inbox's groups; each must carry a word and a shape too
COLOURED = """() => Array.from(document.querySelectorAll(
    '.badge[class*="colour-"], .chip, .unit, strong.late, strong.soon, .badge.late-mark, .badge.severity-major,'
    + ' .badge[class*="grade-"], .badge.target-met, .badge.target-missed, .group-overdue h2, .group-soon h2,'
    + ' .group-later h2'), (mark) => {
  const unit = mark.classList.contains('unit');
  return {mark: mark.tagName.toLowerCase() + '.' + Array.from(mark.classList).join('.'),
          shape: getComputedStyle(unit ? mark.querySelector('.dot') : mark, '::before').content,
          word: (unit ? mark.querySelector('.colour-word') : mark).innerText.trim()};
})"""
# (page, rule id) → why it stays; README's "Accessibility" section says the same
ALLOWED: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template) -> Iterator[dict[str, object]]:
    """`pingan serve` over the campaign year, with a keeper's hazards overdue, due soon and later, and the
    sweep of today run; its base URL and the ids the pages are found by."""
    folder = tmp_path_factory.mktemp("accessibility")
    database = folder / "pingan.sqlite"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    calendar = WorkingCalendar()
    scenario = Scenario(sessions, calendar)
    with sessions.begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_A_KEEPER, "org.yaml"))
    letters = build_campaign_year(scenario)
    keeper_hazards = [
        _crossing_hazard(sessions, calendar, scenario.campaign, registered, deadline)
        for registered, deadline in (
            (shanghai(2026, 5, 21, 9), date(2026, 5, 26)),
            (shanghai(2026, 5, 27, 15), date(2026, 5, 29)),
            (shanghai(2026, 5, 27, 15), date(2026, 6, 30)),
        )
    ]
    run_sweep(sessions, clock=FixedClock(shanghai(2026, 5, 28, 9)), mailer=None, base_url=BASE_URL)
    with sessions() as session:
        east = person_by_email(session, "east@example.org").id
        west = person_by_email(session, "west@example.org").id
        task = session.scalar(select(func.min(Task.id)).where(Task.assignee_id == east))
        # west's, left overdue and escalated
        west_hazard = session.scalar(
            select(func.min(Rectification.id)).where(Rectification.responsible_id == west)
        )
    engine.dispose()
    with serving(url, NOW, folder / "instance") as base_url:
        yield {
            "url": base_url,
            "campaign": scenario.campaign,
            "task": task,
            "hazard": west_hazard,
            "keeper_hazard": keeper_hazards[0],
            "letter": letters["overdue_letter"],
        }


def visits(ids: dict[str, object]) -> list[tuple[str, str, str, list[str]]]:
    """(who, language, email, the pages they reach): every page of the app, each by someone who may open it."""
    campaign = f"/campaigns/{ids['campaign']}"
    task, hazard = f"/tasks/{ids['task']}", f"/rectifications/{ids['hazard']}"
    letter = f"/petitions/{ids['letter']}"
    return [
        (
            "village head",
            "zh",
            "east@example.org",
            ["/", "/done", "/campaigns", campaign, task, letter, "/account/password"],
        ),
        (
            "office director",
            "zh",
            "office@example.org",
            [
                "/",
                "/done",
                "/campaigns",
                campaign,
                f"{campaign}/hazards",
                hazard,
                task,
                f"{campaign}/escalations",
                f"{campaign}/report",
                f"{campaign}/incidents",
                f"{campaign}/scores",
                letter,
                "/leader",
                "/decisions",
            ],
        ),
        ("leader", "zh", "leader@example.org", ["/leader", campaign, f"{campaign}/report"]),
        ("deputy", "zh", "deputy@example.org", ["/leader", f"{campaign}/escalations"]),
        (
            "keeper",
            "zh",
            "keeper@example.org",
            ["/", f"/rectifications/{ids['keeper_hazard']}", "/done", "/account/password"],
        ),
        (
            "office director",
            "en",
            "office@example.org",
            ["/", campaign, f"{campaign}/hazards", f"{campaign}/report", "/leader", "/decisions"],
        ),
    ]


def test_every_page_passes_axe_at_levels_a_and_aa(site, browser, capsys):
    found: dict[tuple[str, str], list[str]] = {}
    rules: set[str] = set()
    pages = 0
    coloured: list[dict[str, str]] = []
    for who, language, email, paths in [("nobody", "zh", None, ["/login"])] + visits(site):
        context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="zh-CN")
        context.route(f"{site['url']}{AXE_PATH}", _serve_axe)
        page = context.new_page()
        if email:
            sign_in(page, site["url"], email)
            assert "/login" not in page.url, f"{who} could not sign in"
        if language == "en":
            page.click("form.language button[value=en]")
            page.wait_for_load_state()
        for path in paths:
            answer = page.goto(f"{site['url']}{path}")
            assert answer.status == 200, (who, path, answer.status)
            # and no sideways scrolling on a small phone (WCAG 1.4.10; wide tables scroll in a frame)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE, (who, path)
            coloured += [dict(mark, page=path) for mark in page.evaluate(COLOURED)]
            result = _axe(page)
            pages += 1
            rules |= {
                rule["id"]
                for key in ("passes", "violations", "incomplete", "inapplicable")
                for rule in result[key]
            }
            name = _page_name(path)
            for violation in result["violations"]:
                found.setdefault((name, violation["id"]), []).append(
                    f"{who} ({language}) {path}: {violation['help']} — "
                    + "; ".join(str(node["target"]) for node in violation["nodes"][:5])
                )
        context.close()

    with capsys.disabled():
        print(
            f"\naxe-core {_axe_version()}: {pages} pages × {len(rules)} rules ({', '.join(TAGS)}) "
            f"checked; {len(found)} page/rule violations, {len(ALLOWED)} allowed (README, Accessibility); "
            f"{len(coloured)} coloured marks each with a word and a shape"
        )
    # colour is never the only signal, and each kind of coloured mark was seen somewhere
    assert [m for m in coloured if m["shape"] in ("none", "normal") or not m["word"]] == []
    kinds = {m["mark"].split(".")[1] for m in coloured}
    assert {"badge", "chip", "unit", "late", "soon"} <= kinds, kinds
    unexpected = {" ".join(key): where for key, where in found.items() if key not in ALLOWED}
    assert unexpected == {}, json.dumps(unexpected, ensure_ascii=False, indent=1)
    assert set(ALLOWED) - set(found) == set(), "an allowance no page needs any more: drop it"


def test_the_checker_finds_what_a_page_gets_wrong(site, browser):
    # the check above must be able to fail: a form field without a label and an image without a text
    context = browser.new_context(locale="zh-CN")
    context.route(f"{site['url']}{AXE_PATH}", _serve_axe)
    page = context.new_page()
    page.goto(f"{site['url']}/login")
    page.evaluate(
        "() => { const form = document.querySelector('main');"
        " form.append(document.createElement('input'));"
        " const image = document.createElement('img'); image.src = '/static/none.png'; form.append(image); }"
    )
    found = {violation["id"] for violation in _axe(page)["violations"]}
    context.close()
    assert {"label", "image-alt"} <= found


def _axe(page) -> dict:  # type: ignore[no-untyped-def]
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_PATH)
    return page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']});"
        " const short = (rules) => rules.map((rule) => ({id: rule.id, help: rule.help,"
        "   nodes: rule.nodes.map((node) => ({target: node.target}))}));"
        " return {violations: short(r.violations), passes: short(r.passes), incomplete: short(r.incomplete),"
        "   inapplicable: short(r.inapplicable)}; }",
        TAGS,
    )


def _serve_axe(route) -> None:  # type: ignore[no-untyped-def]
    route.fulfill(path=str(AXE), content_type="application/javascript; charset=utf-8")


def _axe_version() -> str:
    return AXE.read_text(encoding="utf-8")[:40].split("axe v", 1)[1].split()[0]


def _page_name(path: str) -> str:
    """The page's name in ALLOWED and README: its route with the ids left out (/campaigns/<id>/report)."""
    return "/" + "/".join(
        "<id>" if part.isdigit() else part for part in path.strip("/").split("/") if part
    )


def _crossing_hazard(sessions, calendar, campaign: int, registered, deadline: date) -> int:  # type: ignore[no-untyped-def]
    """A hazard at 3号道口, which its keeper is to rectify."""
    with sessions.begin() as session:
        return register_hazard(
            session,
            campaign,
            HazardReport(description="道口栏杆松动", site="crossing-3", deadline=deadline),
            by=OPERATOR,
            clock=FixedClock(registered),
            calendar=calendar,
            base_url=BASE_URL,
        ).id
