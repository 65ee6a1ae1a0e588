"""The engine's refusals reach the pages in the reader's language (issue #18, item 7): every refusal the engine
raises from a literal or an f-string is an entry of the catalogue, translated into Chinese, and a refused move on a
page reads in Chinese with the engine's parts (an e-mail, a number) kept; English readers get the engine's words."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.support.paths import ROOT
from webapp import create_app
from webapp.engine_messages import _templates, engine_message

CHINESE = ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def test_every_engine_refusal_template_is_translated_into_chinese():
    catalogue = {m.id: m.string for m in read_po(Path(CHINESE).open("rb")) if m.id}
    templates = [t.msgid for t in _templates()]
    assert len(templates) > 100
    missing = [msgid for msgid in templates if not catalogue.get(msgid)]
    assert missing == [], "run pybabel extract/update and translate these"
    for msgid in templates:  # the translation keeps every part
        parts = sorted(re.findall(r"%\((p\d+)\)s", msgid))
        assert sorted(re.findall(r"%\((p\d+)\)s", catalogue[msgid])) == parts, msgid


def test_a_message_is_matched_to_its_template_and_its_parts_kept():
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"})
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert engine_message("east@example.org is deactivated: reactivate them first") == (
            "east@example.org 已停用：请先恢复启用"
        )
        assert engine_message("task 12 is done: only open tasks are reassigned") == (
            "任务 12 处于 done：只有未完成的任务可以改派"
        )
        # a state machine's own refusal: a 'fixed' that waited on a phone while the item was closed
        assert engine_message("cannot submit rectification 7: it is closed") == (
            "不能对 rectification 7 执行 submit：其当前状态为 closed（可能已有人先处理了它）"
        )
        assert (
            engine_message("something the engine never says") == "something the engine never says"
        )
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        english = engine_message("east@example.org is deactivated: reactivate them first")
    assert english in (
        "east@example.org is deactivated: reactivate them first",
        "east@example.org 已停用：请先恢复启用",
    )


def test_a_definition_s_problem_reads_in_chinese_beside_the_line_pingan_validate_prints():
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"})
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        said = engine_message("duplicate key 'title' (first at line 3)")
        assert said == "键“title”重复（首次出现在第 3 行）"
        assert engine_message("the file is empty") == "文件是空的"


def test_a_target_s_expected_value_and_detail_read_in_chinese_with_their_numbers_and_periods():
    from webapp.engine_messages import target_words

    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"})
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert target_words("≤ 2 per quarter") == "≤ 2 /季度"
        assert target_words("3 incident(s)") == "3 起"
        assert target_words("2026-Q1: 1 (before: 2); 2026-Q2: 0 (before: 1)") == (
            "2026-Q1: 1 （上期 2）; 2026-Q2: 0 （上期 1）"
        )
        assert target_words("< the period before") == "少于上一期"
        assert target_words("≥ 95%") == "≥ 95%"
