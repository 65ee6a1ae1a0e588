"""Work lists at scale (issue 19): the register and the inbox filtered, searched, sorted and paged
by keyset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.actions import BASE_URL, actor, person_id, register
from tests.support.clock import shanghai
from workflow.clock import FixedClock, local_date
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.escalation.sweep import run_sweep
from workflow.views.escalation_log import escalation_page
from workflow.worklists import keyset
from workflow.worklists.filters import WorkFilter, read_filter
from workflow.worklists.items import Scope, Window, work_page
from workflow.worklists.search import marked
from workflow.worklists.views import delete_view, save_view, share_view, views_for

REGISTERED = shanghai(2026, 9, 14, 9)
# read on 2026-10-12: the hazards due 9-28 … are overdue, those due within 3 working days soon
READ = shanghai(2026, 10, 12, 10)


def window(calendar, now=READ, within=3):
    return Window(now, calendar.add_working_days(local_date(now, "Asia/Shanghai"), within))


def page(sessions, scope, calendar, after=None, limit=50, now=READ, **filters):
    """A page of ``scope``'s list as read at ``now``, with the rows' escalation levels."""
    work_filter = read_filter({name: str(value) for name, value in filters.items()})
    with sessions() as session:
        return work_page(
            session,
            scope,
            work_filter,
            window(calendar, now, work_filter.within),
            after=after,
            limit=limit,
            levels=True,
        )


def descriptions(found):
    return [row.title for row in found.rows]


@pytest.fixture
def hazards(sessions, hazard_campaign, calendar):
    """Six hazards of the screening campaign, each with its deadline, severity, unit and texts."""
    made = {}
    for description, severity, unit, site, deadline, location in (
        ("道口护栏损坏", "major", "east-village", "crossing-3", date(2026, 9, 28), "北侧"),
        ("护栏油漆脱落", "minor", "east-village", None, date(2026, 10, 13), "南侧护栏"),
        ("警示标志缺失", "major", "west-village", None, date(2026, 10, 9), None),
        ("线路两侧堆放杂物", "minor", "west-village", None, date(2026, 11, 20), "铁路桥下"),
        ("道口照明不足", "minor", "east-village", "crossing-3", date(2026, 10, 14), None),
        ("废品收购站收购铁路器材", "major", "west-village", None, date(2026, 11, 2), "镇西"),
    ):
        made[description] = register(
            sessions,
            hazard_campaign,
            calendar,
            REGISTERED,
            description=description,
            severity=severity,
            unit=unit,
            site=site,
            deadline=deadline,
            location=location,
        )
    return made


def register_scope(campaign):
    return Scope("register", campaign_id=campaign)


def test_the_register_is_read_soonest_deadline_first_and_counted(
    sessions, hazard_campaign, hazards, calendar
):
    found = page(sessions, register_scope(hazard_campaign), calendar)

    assert descriptions(found) == [
        "道口护栏损坏",
        "警示标志缺失",
        "护栏油漆脱落",
        "道口照明不足",
        "废品收购站收购铁路器材",
        "线路两侧堆放杂物",
    ]
    assert found.count == 6 and found.next_after is None


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"unit": "east-village"}, ["道口护栏损坏", "护栏油漆脱落", "道口照明不足"]),
        ({"site": "crossing-3"}, ["道口护栏损坏", "道口照明不足"]),
        ({"severity": "major"}, ["道口护栏损坏", "警示标志缺失", "废品收购站收购铁路器材"]),
        ({"due": "overdue"}, ["道口护栏损坏", "警示标志缺失"]),
        # 10-12 (Monday) + 3 working days: until Thursday 10-15
        ({"due": "soon"}, ["护栏油漆脱落", "道口照明不足"]),
        ({"due": "soon", "within": 1}, ["护栏油漆脱落"]),
        ({"due": "later"}, ["废品收购站收购铁路器材", "线路两侧堆放杂物"]),
        ({"responsible": "KEEPER@example.org"}, ["道口护栏损坏", "道口照明不足"]),
        ({"kind": "task"}, []),
        ({"state": "closed"}, []),
        ({"unit": "no-such-unit"}, []),
        # combined: the coordinator's question of the issue
        ({"unit": "west-village", "due": "overdue", "severity": "major"}, ["警示标志缺失"]),
        (
            {"unit": "east-village", "severity": "minor", "due": "soon"},
            ["护栏油漆脱落", "道口照明不足"],
        ),
        ({"site": "crossing-3", "due": "later"}, []),
    ],
)
def test_each_filter_alone_and_combined(
    sessions, hazard_campaign, hazards, calendar, filters, expected
):
    found = page(sessions, register_scope(hazard_campaign), calendar, **filters)

    assert descriptions(found) == expected
    assert found.count == len(expected)


def test_a_two_character_word_is_found_where_there_is_no_trigram(
    sessions, hazard_campaign, hazards, calendar
):
    found = page(sessions, register_scope(hazard_campaign), calendar, q="护栏")

    # the description holds it (4) and the location too (2): ranked first
    assert descriptions(found) == ["护栏油漆脱落", "道口护栏损坏"]
    assert marked("南侧护栏", found.terms) == [("南侧", False), ("护栏", True)]


def test_a_four_character_phrase_is_found_through_the_trigram_index(
    sessions, hazard_campaign, hazards, calendar
):
    found = page(sessions, register_scope(hazard_campaign), calendar, q="铁路器材")

    assert descriptions(found) == ["废品收购站收购铁路器材"]
    assert found.sort == "relevance"


def test_words_are_searched_together_and_in_the_key_site_s_name(
    sessions, hazard_campaign, hazards, calendar
):
    assert descriptions(page(sessions, register_scope(hazard_campaign), calendar, q="3号道口")) == [
        "道口护栏损坏",
        "道口照明不足",
    ]
    assert descriptions(
        page(sessions, register_scope(hazard_campaign), calendar, q="道口 照明")
    ) == ["道口照明不足"]
    assert page(sessions, register_scope(hazard_campaign), calendar, q="100%").rows == []


def test_keyset_pages_neither_repeat_nor_skip_rows_while_rows_are_inserted(
    sessions, hazard_campaign, hazards, calendar
):
    scope = register_scope(hazard_campaign)
    first = page(sessions, scope, calendar, limit=2)
    assert descriptions(first) == ["道口护栏损坏", "警示标志缺失"]
    # meanwhile: one due before the place reached, one after it
    register(
        sessions,
        hazard_campaign,
        calendar,
        REGISTERED,
        description="新登记的早期隐患",
        deadline=date(2026, 9, 25),
    )
    register(
        sessions,
        hazard_campaign,
        calendar,
        REGISTERED,
        description="新登记的后期隐患",
        deadline=date(2026, 10, 30),
    )
    seen = descriptions(first)
    after = first.next_after
    while after:
        following = page(sessions, scope, calendar, after=after, limit=2)
        seen += descriptions(following)
        after = following.next_after

    assert seen == [
        "道口护栏损坏",
        "警示标志缺失",
        "护栏油漆脱落",
        "道口照明不足",
        "新登记的后期隐患",
        "废品收购站收购铁路器材",
        "线路两侧堆放杂物",
    ]


def test_every_order_pages_through_every_row_once(sessions, hazard_campaign, hazards, calendar):
    scope = register_scope(hazard_campaign)
    for sort in ("due", "registered", "level"):
        seen, after = [], None
        while True:
            found = page(sessions, scope, calendar, after=after, limit=4, sort=sort)
            seen += [row.id for row in found.rows]
            after = found.next_after
            if not after:
                break
        assert sorted(seen) == sorted(hazards.values()), sort


def test_a_page_key_altered_by_hand_is_refused(sessions, hazard_campaign, hazards, calendar):
    with pytest.raises(InvalidInput, match="after is not a page"):
        page(sessions, register_scope(hazard_campaign), calendar, after="WzEsMl0")
    with pytest.raises(InvalidInput, match="due must be one of"):
        read_filter({"due": "tomorrow"})
    with pytest.raises(InvalidInput, match="within must be"):
        read_filter({"within": "-1"})


def test_the_inbox_is_the_holder_s_open_items_filtered_the_same_way(
    sessions, hazard_campaign, hazards, calendar
):
    keeper = person_id(sessions, "keeper@example.org")
    scope = Scope("inbox", person_id=keeper)

    assert descriptions(page(sessions, scope, calendar)) == ["道口护栏损坏", "道口照明不足"]
    assert descriptions(page(sessions, scope, calendar, due="overdue")) == ["道口护栏损坏"]
    filtered = WorkFilter(due="overdue", severity="major")
    assert filtered.query() == {"severity": "major", "due": "overdue"}
    assert read_filter(filtered.query()) == filtered


def test_a_view_shared_by_a_coordinator_reaches_the_leading_group_only(
    sessions, hazard_campaign, hazards
):
    office, deputy, east = (
        actor(sessions, email)
        for email in ("office@example.org", "deputy@example.org", "east@example.org")
    )
    with sessions.begin() as session:
        view = save_view(
            session,
            name=" 本周到期的重大隐患 ",
            list_name="register",
            query="?severity=major&due=soon&unknown=1",
            campaign_id=hazard_campaign,
            by=office,
            now=READ,
        )
        view_id = view.id
    with sessions() as session:
        mine = views_for(session, office.person_id)
        assert [(v.name, v.query, v.mine) for v in mine] == [
            ("本周到期的重大隐患", "severity=major&due=soon", True)
        ], "the name trimmed, the filter kept in its own names only"
        assert views_for(session, deputy.person_id) == []
    with sessions.begin() as session:
        share_view(session, view_id, shared=True, by=office)
    with sessions() as session:
        shared = views_for(session, deputy.person_id)
        assert [(v.name, v.mine, v.shared) for v in shared] == [("本周到期的重大隐患", False, True)]
        assert views_for(session, east.person_id) == [], "a village head is not of the group"
    with sessions.begin() as session, pytest.raises(NotFound):
        delete_view(session, view_id, by=deputy)


def test_a_view_is_refused_when_its_name_is_taken_or_its_filter_is_bad(
    sessions, hazard_campaign, hazards
):
    office, east = actor(sessions, "office@example.org"), actor(sessions, "east@example.org")

    def save(**changes):
        fields = {
            "name": "逾期",
            "list_name": "register",
            "query": "due=overdue",
            "campaign_id": hazard_campaign,
            "by": office,
            "now": READ,
        } | changes
        with sessions.begin() as session:
            return save_view(session, **fields).id

    save()
    with pytest.raises(Conflict, match="already have a view named 逾期"):
        save()
    with pytest.raises(InvalidInput, match="due must be one of"):
        save(name="坏的", query="due=tomorrow")
    with pytest.raises(InvalidInput, match="needs a name"):
        save(name="   ")
    with pytest.raises(NotFound):  # a village head reads no register
        save(name="东村", by=east)
    inbox_view = save(name="我的逾期", list_name="inbox", campaign_id=None, by=east)
    with (
        sessions.begin() as session,
        pytest.raises(InvalidInput, match="only a view of a campaign"),
    ):
        share_view(session, inbox_view, shared=True, by=east)


def test_the_escalation_log_pages_newest_first_and_narrows_by_level(
    sessions, hazard_campaign, hazards
):
    office = actor(sessions, "office@example.org")
    run_sweep(sessions, clock=FixedClock(READ), mailer=None, base_url=BASE_URL)
    with sessions() as session:
        everything = escalation_page(session, hazard_campaign, WorkFilter(), by=office)
        assert everything.count == len(everything.entries) > 2
        seen, after = [], None
        while True:
            page = escalation_page(
                session, hazard_campaign, WorkFilter(), by=office, after=after, limit=2
            )
            seen += [entry.id for entry in page.entries]
            after = page.next_after
            if not after:
                break
        assert seen == [entry.id for entry in everything.entries]
        higher = escalation_page(session, hazard_campaign, WorkFilter(level=1), by=office)
        assert higher.entries and all(entry.level >= 1 for entry in higher.entries)
        assert higher.count < everything.count


def test_the_register_narrows_to_an_escalation_level_and_sorts_by_it(
    sessions, hazard_campaign, hazards, calendar
):
    run_sweep(sessions, clock=FixedClock(READ), mailer=None, base_url=BASE_URL)
    scope = register_scope(hazard_campaign)
    reminded = page(sessions, scope, calendar, level=0)
    by_level = page(sessions, scope, calendar, sort="level")
    levels = [by_level.levels.get(("rectification", row.id), -1) for row in by_level.rows]

    assert levels == sorted(levels, reverse=True) and levels[0] >= 1
    assert {row.id for row in reminded.rows} == {
        row.id
        for row in by_level.rows
        if by_level.levels.get(("rectification", row.id)) is not None
    }
    assert page(sessions, scope, calendar, level=9).rows == []


def test_a_nul_in_a_filter_is_dropped_before_it_reaches_the_database(
    sessions, hazard_campaign, hazards, calendar
):
    found = page(
        sessions, register_scope(hazard_campaign), calendar, q="护\x00栏", unit="east\x00-village"
    )

    assert descriptions(found) == ["护栏油漆脱落", "道口护栏损坏"]


def test_a_search_matching_more_than_are_ranked_is_listed_by_due_date_and_said_so(
    sessions, hazard_campaign, hazards, calendar, monkeypatch
):
    scope = register_scope(hazard_campaign)
    ranked = page(sessions, scope, calendar, q="护栏")
    assert descriptions(ranked) == ["护栏油漆脱落", "道口护栏损坏"] and not ranked.count_capped

    monkeypatch.setattr("workflow.limits.SEARCH_RANK_LIMIT", 1)
    common = page(sessions, scope, calendar, q="护栏")
    assert common.count_capped and common.sort == "due"
    assert descriptions(common) == ["道口护栏损坏", "护栏油漆脱落"], "soonest due first"
    few = page(sessions, scope, calendar, q="照明")
    assert not few.count_capped and few.sort == "relevance" and few.count == 1
    # a word of 3+ characters past the cap: walked by due date, each row's texts compared
    monkeypatch.setattr("workflow.limits.SEARCH_RANK_LIMIT", 0)
    walked = page(sessions, scope, calendar, q="警示标志")
    assert walked.count_capped and walked.sort == "due"
    assert descriptions(walked) == ["警示标志缺失"]


def test_a_search_leaves_the_connection_planning_as_it_found_it(
    engine, sessions, hazard_campaign, hazards, calendar
):
    """PostgreSQL plans a search without sequential scans (search.planned_for_search): for the
    transaction, or for the connection while the search runs when its reads run in autocommit (the
    API's); after it, the pooled connection plans as before."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    for options in ({}, {"isolation_level": "AUTOCOMMIT"}):
        with sessions() as session:
            connection = session.connection(execution_options=options)
            found = work_page(
                session, register_scope(hazard_campaign), WorkFilter(q="警示标志"), window(calendar)
            )
            assert descriptions(found) == ["警示标志缺失"]
            assert connection.exec_driver_sql("SHOW enable_seqscan").scalar() == "on", options


def test_a_list_as_it_opens_is_the_same_page_as_the_general_statement_gives(
    sessions, hazard_campaign, hazards, calendar
):
    """The inbox and the done list as they open come from statements built once with the person
    and the instants bound; the same filter spelled out takes the general path."""
    for email in ("keeper@example.org", "east@example.org", "west@example.org"):
        for list_name in ("inbox", "done"):
            scope = Scope(list_name, person_id=person_id(sessions, email))
            opening = page(sessions, scope, calendar)
            own_order = "finished" if list_name == "done" else "due"
            general = page(sessions, scope, calendar, sort=own_order)
            assert (opening.rows, opening.counts, opening.next_after) == (
                general.rows,
                general.counts,
                general.next_after,
            ), (email, list_name)
    keeper = Scope("inbox", person_id=person_id(sessions, "keeper@example.org"))
    first = page(sessions, keeper, calendar, limit=1)
    assert len(first.rows) == 1 and first.next_after and first.count == 2


def test_a_request_s_shape_is_built_once_with_its_values_bound_not_baked(
    sessions, hazard_campaign, hazards, calendar
):
    """A filtered or searched list runs statements built once per shape of request (filters given,
    words by class, order, kind of page key): another request of that shape binds its own values
    into them; another shape gets statements of its own."""
    from workflow.worklists import items

    items._STATEMENTS.clear()
    scope = register_scope(hazard_campaign)
    assert descriptions(page(sessions, scope, calendar, q="护栏")) == [
        "护栏油漆脱落",
        "道口护栏损坏",
    ]
    built = dict(items._STATEMENTS)
    assert len(built) == 2, "the count and the first page"
    # the same shape (a two-character word): nothing built, the other word's rows
    assert descriptions(page(sessions, scope, calendar, q="照明")) == ["道口照明不足"]
    assert items._STATEMENTS == built
    for statement in built.values():
        compiled = statement.compile()
        assert "护栏" not in str(compiled)
        texts = [value for value in compiled.params.values() if isinstance(value, str)]
        # neither the word nor the stand-in search.py was handed to build the statement
        assert not any("护栏" in text or "\U000f0000" in text for text in texts), texts
        assert compiled.params["wl_pattern_0"] is None and compiled.params["wl_campaign_id"] is None
    # a word of three characters or more is of another shape (the trigram index), as is a filter
    assert descriptions(page(sessions, scope, calendar, q="铁路器材")) == ["废品收购站收购铁路器材"]
    overdue = page(sessions, scope, calendar, due="overdue")
    soon = page(sessions, scope, calendar, due="soon")
    assert not set(descriptions(overdue)) & set(descriptions(soon))
    # a search's count first (the page's order depends on it), a filter's page carries its count
    assert len(items._STATEMENTS) == 6
    statements = list(items._STATEMENTS.values())
    assert len({id(statement) for statement in statements}) == len(statements)
    # the next page's key is bound too: every page of a shape after the first shares a statement
    first = page(sessions, scope, calendar, limit=1, due="later")
    second = page(sessions, scope, calendar, after=first.next_after, limit=1, due="later")
    assert descriptions(first) + descriptions(second) == [
        "废品收购站收购铁路器材",
        "线路两侧堆放杂物",
    ]
    assert first.counts == second.counts == {"later": 2}
    # a page past the last has no row to carry the count: it is asked for on its own
    last = second.rows[-1]._asdict()
    past = keyset.encode(tuple(last[name] for name in items._key_names("due")))
    beyond = page(sessions, scope, calendar, after=past, limit=1, due="later")
    assert beyond.rows == [] and beyond.counts == {"later": 2}
    # values escaped as search.py escapes them: a LIKE wildcard or a quote is a character sought
    for word in ("%", "_", "\\", "100%", '"道口"'):
        assert page(sessions, scope, calendar, q=word).rows == [], word
