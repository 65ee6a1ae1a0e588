"""Language: Chinese (zh_CN) by default, English on request; dates written as people there write
them.

The choice is a cookie set by the switch in every page's header, so it holds
before sign-in too. Every string of the pages is in the message catalogues
(``webapp/translations``); the texts of a definition show in English where the
definition gives their ``title_en`` (:func:`localized`). The Chinese catalogue lives in
``translations/zh_Hans_CN``: Babel names the locale zh_CN by its CLDR name, and
gettext looks for that folder (then ``zh``), never for ``zh_CN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from flask import Flask, current_app, g, request
from flask_babel import Babel, get_translations

from workflow.definitions.catalogue import stored_definition
from workflow.definitions.texts import english_twins
from workflow.models import Campaign

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGE_COOKIE = "lang"
# 2026年5月8日 in Chinese, 8 May 2026 in English
DATE_FORMATS = {"zh": "y年M月d日", "en": "d MMM y"}

babel = Babel()


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=chosen_language)
    # Flask-Babel looks the request's catalogue up again on every string (~150 on an inbox page);
    # the pages take it once per request instead (benchmarks/inbox.py)
    app.jinja_env.install_gettext_callables(page_gettext, page_ngettext, newstyle=True)  # type: ignore[attr-defined]
    app.jinja_env.filters.update(day=written_date, when=written_instant)
    app.jinja_env.globals.update(
        localized=localized, LANGUAGES=LANGUAGES, language=current_language
    )


def page_gettext(string: str, **variables: object) -> str:
    """The translation of a page string in this request's language."""
    translated = _catalogue().ugettext(string)
    return translated % variables if variables else translated


def page_ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The singular or plural translation for ``num`` (available to the string as ``%(num)d``)."""
    variables.setdefault("num", num)
    return _catalogue().ungettext(singular, plural, num) % variables


def chosen_language() -> str:
    """The language of this request: the cookie set by the switch, else Chinese."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The code of this request's language, as in LANGUAGES (Babel itself says zh_Hans_CN)."""
    return chosen_language() if request else DEFAULT_LANGUAGE


def localized(text: str | None, twin: str | Campaign | Mapping[str, str] | None = None) -> str:
    """A text of a definition in this request's language: in English its English twin where the
    definition gives one, else the text as written (Chinese).

    The one helper for every such text on every page. ``twin`` is that twin itself, or where to
    find it: the campaign the text is of (``localized(rule.title, campaign)``), or the twins of its
    definition (``workflow.definitions.texts``) that a view handed over.
    """
    if current_language() != "en":
        return text or ""
    if twin is None or isinstance(twin, str):
        return twin or text or ""
    if isinstance(twin, Campaign):
        twin = english_twins(stored_definition(twin.definition))
    return twin.get(text or "") or text or ""


def written_date(value: date | datetime | None) -> str:
    """A date as people write it: 2026年5月8日 / 8 May 2026 (a date-time in Beijing time,
    BABEL_DEFAULT_TIMEZONE)."""
    if value is None:
        return ""
    return format_date(_local(value), DATE_FORMATS[_family()], locale=_locale())


def written_instant(value: datetime | None) -> str:
    """A date and time in Beijing time: 2026年5月8日 09:00."""
    if value is None:
        return ""
    local = _local(value)
    return f"{written_date(local)} {format_time(local, 'HH:mm', locale=_locale())}"


def _family() -> str:
    return "zh" if current_language().startswith("zh") else "en"


def _local(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(_zone(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return value


def _locale() -> Locale:
    return _cached_locale(current_language())


def _catalogue():  # type: ignore[no-untyped-def]
    catalogue = g.get("_catalogue")
    if catalogue is None:
        catalogue = g._catalogue = get_translations()
    return catalogue


@lru_cache(maxsize=8)
def _cached_locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
