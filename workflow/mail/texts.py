"""The words of the mails: Chinese first, with an English line, and the facts a leader acts on.

Each mail says what, where (site, unit), the deadline, how many working days
overdue, who is responsible, the temporary measures, and a link to the item.
Levels carry the colours coordinators use: blue reminder, yellow 催办, red 督办.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import NamedTuple, Protocol

from workflow.limits import MAIL_ITEMS_LISTED

COLOUR_WORDS = {
    "blue": ("蓝色提醒", "blue reminder"),
    "yellow": ("黄色催办", "yellow: overdue, please act"),
    "red": ("红色督办", "red: supervised escalation"),
}
SEVERITY_WORDS = {"major": "重大隐患 / major", "minor": "一般隐患 / minor"}
KIND_PATHS = {"rectification": "rectifications", "task": "tasks", "petition": "petitions"}


class Named(Protocol):
    name: str


# a tuple: a sweep makes ten thousand, and a frozen dataclass is slow to build
class ItemLine(NamedTuple):
    kind: str
    id: int
    title: str
    site: str | None
    unit: str | None
    deadline: date
    severity: str | None
    overdue_working_days: int
    responsible: str
    temporary_measures: str | None
    late: bool = False
    # the deadline was counted over a year without the official calendar: 「预计」
    estimated: bool = False


def item_link(base_url: str, kind: str, item_id: int) -> str:
    return f"{base_url.rstrip('/')}/{KIND_PATHS[kind]}/{item_id}"


def escalation_mail(
    *,
    level: int,
    colour: str,
    recipient: Named,
    items: list[ItemLine],
    campaign_title: str,
    base_url: str,
    counted: MailCount | None = None,
) -> tuple[str, str]:
    """Subject and body of one reminder or escalation mail about ``items``: the worst
    ``MAIL_ITEMS_LISTED`` listed, the others counted. A caller that has many may pass only those
    it lists (:func:`worst_first`), and ``counted`` for all of them."""
    if counted is None:
        counted = count_of((item.kind, item.severity, item.late) for item in items)
        items = worst_first(items)[:MAIL_ITEMS_LISTED]
    total = counted.total
    colour_zh, colour_en = COLOUR_WORDS.get(colour, COLOUR_WORDS["red"])
    if level == 0:
        subject = (
            f"【{colour_zh}】{total} 项整改即将到期 / {total} item(s) due soon — {campaign_title}"  # noqa: E501
        )
        opening = (
            "以下事项即将到期，请按期完成整改。",
            "The following items are due soon; please complete them by the deadline.",
        )
    elif counted.petitions_only:
        subject = (
            f"【{colour_zh}·第{level}级】{total} 件信访事项逾期未办结 / level {level}: "
            f"{total} overdue letter(s) or visit(s) — {campaign_title}"
        )
        opening = (
            f"以下信访事项已逾期未办结，现按第{level}级督办通知您。",
            "The following letters or visits are overdue; you are notified at escalation level "
            f"{level} "
            f"({colour_en}).",
        )
    else:
        subject = (
            f"【{colour_zh}·第{level}级】{total} 项逾期未整改 / level {level}: "
            f"{total} overdue item(s) — {campaign_title}"
        )
        opening = (
            f"以下事项已逾期，现按第{level}级督办通知您。",
            f"The following items are overdue; you are notified at escalation level {level} "
            f"({colour_en}).",
        )
    lines = [f"{recipient.name}：", "", opening[0], opening[1], ""]
    for number, item in enumerate(items, start=1):
        lines += _item_block(number, item, base_url)
    if total > len(items):
        lines += _not_listed(counted, len(items), level, base_url)
    lines += estimate_note(item.deadline for item in items if item.estimated)
    if counted.late:
        lines += [
            "注：本通知因系统停机后补发，时间晚于应发时间。",
            "Note: sent late, after the system was down when it came due.",
            "",
        ]
    lines += ["——平安创建活动领导小组办公室 / pingan"]
    return subject, "\n".join(lines)


class MailCount(NamedTuple):
    """What a mail says of all its items, listed or not."""

    total: int
    major: int
    late: bool  # one of them came due while the system was down
    petitions_only: bool


def count_of(items: Iterable[tuple[str, str | None, bool]]) -> MailCount:
    """What a mail says of all its items, from each item's (kind, severity, late)."""
    facts = list(items)
    return MailCount(
        total=len(facts),
        major=sum(severity == "major" for _kind, severity, _late in facts),
        late=any(late for _kind, _severity, late in facts),
        petitions_only=all(kind == "petition" for kind, _severity, _late in facts),
    )


def worst_first(items: list[ItemLine]) -> list[ItemLine]:
    """Major hazards first, then the longest overdue; otherwise as given."""
    return sorted(items, key=lambda item: worst_key(item.severity, item.overdue_working_days))


def worst_key(severity: str | None, overdue_working_days: int) -> tuple[bool, int]:
    """The order in which a mail lists its items; a sweep sorts by it before reading their words."""
    return severity != "major", -overdue_working_days


def hazard_registered_mail(
    *, recipient: Named, item: ItemLine, campaign_title: str, registered_by: str, base_url: str
) -> tuple[str, str]:
    """Subject and body of the mail that tells a responsible person a hazard is theirs to
    rectify."""
    subject = (
        f"【隐患整改通知】{item.title[:40]}，限 {item.deadline.isoformat()}{_ESTIMATE_ZH * item.estimated} 前整改 / "  # noqa: E501
        f"hazard to rectify by {item.deadline.isoformat()}{_ESTIMATE_EN * item.estimated} — {campaign_title}"  # noqa: E501
    )
    lines = [
        f"{recipient.name}：",
        "",
        f"{registered_by} 在检查中登记了以下隐患，由您负责整改。",
        "A hazard was registered in an inspection; you are responsible for its rectification.",
        "",
    ]
    lines += _item_block(1, item, base_url)
    lines += estimate_note([item.deadline] if item.estimated else [])
    lines += [
        "如需延期，请在系统中提出申请并说明理由。",
        "To ask for more time, request an extension with a reason in the web app.",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


def site_hazard_mail(
    *, recipient: Named, item: ItemLine, campaign_title: str, registered_by: str, base_url: str
) -> tuple[str, str]:
    """Subject and body of the mail that tells a liaison (the railway department's, the police's)
    of a hazard registered at a key site: for their knowledge, the rectification is someone
    else's."""
    where = item.site or item.unit or ""
    subject = (
        f"【重点部位隐患】{where}：{item.title[:40]} / "
        f"hazard registered at {where} — {campaign_title}"
    )
    lines = [
        f"{recipient.name}：",
        "",
        f"{registered_by} 在{where}登记了以下隐患，特此告知。整改由责任人负责，限期 "
        f"{item.deadline.isoformat()}{_ESTIMATE_ZH * item.estimated}。",
        f"A hazard was registered at {where}; you are told of it. Its responsible person "
        f"rectifies it by {item.deadline.isoformat()}{_ESTIMATE_EN * item.estimated}.",
        "",
    ]
    lines += _item_block(1, item, base_url)
    lines += ["", "——平安创建活动领导小组办公室 / pingan"]
    return subject, "\n".join(lines)


class DueLine(NamedTuple):
    """A line of the daily digest: the reader's own work, overdue or due soon."""

    due: date
    title: str
    campaign_title: str
    link: str
    estimated: bool = False  # ``due`` counted over a year without the official calendar: 「预计」


class AwaitingLine(NamedTuple):
    """A line of the daily digest: an item waiting for the reader's decision."""

    kind: str  # rectification | task | extension | petition (workflow/views/awaiting.py)
    title: str
    campaign_title: str
    waiting_days: int
    waiting_working_days: int
    link: str


AWAITING_WORDS = {
    "rectification": "待验收 / reported fixed",
    "task": "待核验 / checked off",
    "extension": "延期申请 / extension request",
    "petition": "信访待办理 / letter or visit to process",
}


def digest_mail(
    *,
    recipient: Named,
    today: date,
    due: list[DueLine],
    due_within: int,
    awaiting: list[AwaitingLine],
    awaiting_total: int,
    missing_year: int | None = None,
) -> tuple[str, str]:
    """Subject and body of a person's daily digest: their work overdue or due within ``due_within``
    working days, soonest first; then, for a coordinator, how many items await their decision and
    the oldest of them (``awaiting``, of ``awaiting_total``); and, from 1 November, that next
    year's official schedule is missing (``missing_year``)."""
    parts_zh, parts_en = [], []
    if due:
        parts_zh.append(f"{len(due)} 项待办")
        parts_en.append(f"{len(due)} item(s) to do")
    if awaiting_total:
        parts_zh.append(f"{awaiting_total} 项待审核")
        parts_en.append(f"{awaiting_total} awaiting your decision")
    if missing_year:
        parts_zh.append(f"{missing_year} 年节假日安排未录入")
        parts_en.append(f"{missing_year} holiday schedule missing")
    subject = (
        f"【每日待办】{'，'.join(parts_zh)} / daily digest: {', '.join(parts_en)} — "
        f"{today.isoformat()}"
    )
    lines = [f"{recipient.name}：", ""]
    if due:
        lines += [
            f"您有 {len(due)} 项工作已逾期或将在 {due_within} 个工作日内到期：",
            f"You have {len(due)} item(s) overdue or due within {due_within} working days:",
            "",
            *[_due_line(line, today) for line in due],
            "",
            *estimate_note(line.due for line in due if line.estimated),
        ]
    if awaiting_total:
        lines += (
            [
                f"待您审核 {awaiting_total} 项：",
                f"{awaiting_total} item(s) await your decision:",
            ]
            if awaiting_total == len(awaiting)
            else [
                f"待您审核 {awaiting_total} 项，以下是等待最久的 {len(awaiting)} 项：",
                f"{awaiting_total} item(s) await your decision; the {len(awaiting)} waiting "
                "longest:",
            ]
        )
        lines += [
            "",
            *[_awaiting_line(line) for line in awaiting],
            "",
        ]
    if missing_year:
        lines += [
            f"{missing_year} 年的国务院节假日安排（放假和调休）尚未录入：{missing_year} 年的工作日"
            "暂按周一至周五估算，期限可能不准。通知发布后，请系统管理员在“管理 → 工作日历”录入。",
            f"The official {missing_year} holiday schedule (days off and adjusted workdays) has "
            f"not been entered: working days in {missing_year} are estimated Monday–Friday, so "
            "deadlines there may be off. Once the State Council publishes it, an administrator "
            "enters it under Administration → Calendar.",
            "",
        ]
    lines.append("——pingan")
    return subject, "\n".join(lines)


def estimate_moved_mail(
    *,
    recipient: Named,
    kind: str,
    item_id: int,
    title: str,
    old: date,
    new: date,
    year: int,
    campaign_title: str,
    base_url: str,
) -> tuple[str, str]:
    """Subject and body of the mail telling a person their due date moved EARLIER: it was estimated
    Monday–Friday, and the official schedule for ``year`` (its 调休 workdays) was entered."""
    subject = (
        f"【期限提前】{title[:40]}，期限由 {old.isoformat()} 提前至 {new.isoformat()} / "
        f"deadline moved earlier to {new.isoformat()} — {campaign_title}"
    )
    lines = [
        f"{recipient.name}：",
        "",
        f"{year} 年国务院节假日安排已录入系统。以下事项的期限原按周一至周五推算，"
        f"现按正式安排（含调休上班日）重新计算，由 {old.isoformat()} 提前至 {new.isoformat()}，"
        "请按新期限完成。",
        f"The State Council's {year} holiday schedule was entered. This item's deadline had been "
        f"estimated counting Monday–Friday; counted with the official schedule (its adjusted "
        f"workdays), it moved earlier, from {old.isoformat()} to {new.isoformat()}. Please finish "
        "it by the new deadline.",
        "",
        f"1. {title}",
        f"   原期限 was: {old.isoformat()}（预计 estimate）",
        f"   新期限 now: {new.isoformat()}",
        f"   链接 link: {item_link(base_url, kind, item_id)}",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


def letter_link(base_url: str, campaign_id: int, letter_id: int) -> str:
    """A responsibility letter's page (it prints on one A4 sheet)."""
    return f"{base_url.rstrip('/')}/campaigns/{campaign_id}/letters/{letter_id}"


def letter_issued_mail(
    *,
    signer_name: str,
    issuer_name: str,
    title: str,
    place: str | None,
    campaign_title: str,
    due: date | None,
    link: str,
) -> tuple[str, str]:
    """Subject and body of the mail that tells a letter's signer (乙方) it was issued to them."""
    by_when = f"，请于 {due.isoformat()} 前签订" if due else "，请签订"
    by_when_en = f" by {due.isoformat()}" if due else ""
    subject = (
        f"【责任书待签订】{title[:40]}{by_when} / responsibility letter to sign{by_when_en} — "
        f"{campaign_title}"
    )
    lines = [
        f"{signer_name}：",
        "",
        f"{issuer_name} 已向您下达以下责任书，请阅读后签订。",
        f"{issuer_name} has issued you the following responsibility letter; please read and sign "
        "it.",
        "",
        f"   责任书 letter: {title}",
        f"   部位/单位 site or unit: {place or '—'}",
        f"   甲方 issued by: {issuer_name}",
        f"   乙方 signed by: {signer_name}",
        f"   签订期限 sign by: {due.isoformat() if due else '—'}",
        f"   链接 link: {link}",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


def reset_link_mail(
    *, name: str, by_name: str, link: str, expires: str, new_account: bool
) -> tuple[str, str]:
    """Subject and body of the mail carrying a single-use link to choose a password."""
    why = (
        ("已为您开通平安创建工作平台账号", "an account was opened for you")
        if new_account
        else (
            "已为您重置平安创建工作平台的密码",
            "your password was reset",
        )
    )
    subject = f"【设置密码】{why[0]} / {why[1]}"
    lines = [
        f"{name}：",
        "",
        f"{by_name} {why[0]}。请在 {expires} 前打开下面的链接设置您自己的密码"
        "（链接只能使用一次）。",
        f"{by_name}: {why[1]}. Open the link below before {expires} to choose your own password "
        "(it works once).",
        "",
        f"   链接 link: {link}",
        "",
        "如果您没有申请，请忽略本邮件并告知管理员。 / If you did not expect this, ignore this mail "
        "and tell your administrator.",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


def sent_back_mail(
    recipient: Named,
    campaign_title: str,
    kind: str,
    item_id: int,
    title: str,
    by: str,
    reason: str,
    deadline: date | None,
    base_url: str,
) -> tuple[str, str]:
    """Subject and body of the mail telling a person a coordinator sent their work back: the
    reason, the new deadline of a rectification, and the link."""
    what = ("任务", "task") if kind == "task" else ("隐患整改", "rectification")
    subject = (
        f"【退回】{what[0]}「{title[:40]}」未通过审核 / {what[1]} sent back — {campaign_title}"
    )
    lines = [
        f"{recipient.name}：",
        "",
        f"{by} 审核后退回了您的{what[0]}，请按意见重新办理。",
        f"{by} sent your {what[1]} back; please act on the reason below.",
        "",
        f"1. {title}",
        f"   退回理由 reason: {reason}",
    ]
    if deadline is not None:
        lines.append(f"   新的整改期限 new deadline: {deadline.isoformat()}")
    lines += [
        f"   链接 link: {item_link(base_url, kind, item_id)}",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


def stand_in_copy(subject: str, body: str, *, absent: Named, stand_in: Named) -> tuple[str, str]:
    """The copy of a mail to ``absent`` that goes to the person standing in for them
    (workflow/people/stand_ins.py): marked 「代 张三」 in the subject and above the mail as sent."""
    marked = f"【代 {absent.name} / for {absent.name}】{subject}"
    lines = [
        f"{stand_in.name}（代 {absent.name}）：",
        "",
        f"{absent.name} 不在岗期间由您代理，以下邮件原发给 {absent.name}，请代为办理。",
        f"You stand in for {absent.name} while they are away; this mail was addressed to them.",
        "",
        "-" * 40,
        body,
    ]
    return marked, "\n".join(lines)


def estimate_note(days: Iterable[date]) -> list[str]:
    """Once per mail, when any of its dates (``days``) is an estimate: why, and that it will be
    recomputed; nothing otherwise."""
    years = sorted({day.year for day in days})
    if not years:
        return []
    zh = "、".join(str(year) for year in years)
    en = ", ".join(str(year) for year in years)
    return [
        f"标注“预计”的日期按周一至周五推算：{zh}年国务院节假日安排尚未录入，录入后将重新计算。",
        f"Dates marked “estimate” are counted Monday to Friday: the State Council's holiday "
        f"schedule for {en} is not entered yet; they will be recomputed once it is.",
        "",
    ]


def _due_line(line: DueLine, today: date) -> str:
    days = (today - line.due).days
    zh, en = (_ESTIMATE_ZH, _ESTIMATE_EN) if line.estimated else ("", "")
    when = (
        f"已逾期 {days} 天{zh} / {days} day(s) overdue{en}"
        if days > 0
        else f"今天到期{zh} / due today{en}"
        if days == 0
        else f"{line.due.isoformat()}{zh} 到期 / due {line.due.isoformat()}{en}"
    )
    return f"- {line.title}（{line.campaign_title}）{when}\n  {line.link}"


def _awaiting_line(line: AwaitingLine) -> str:
    days, working = line.waiting_days, line.waiting_working_days
    waited = (
        f"已等待 {days} 天（{working} 个工作日）/ waiting {days} day(s) ({working} working day(s))"
        if days
        else "今天起等待 / waiting since today"
    )
    kind = AWAITING_WORDS.get(line.kind, line.kind)
    return f"- 【{kind}】{line.title}（{line.campaign_title}）{waited}\n  {line.link}"


_ESTIMATE_ZH = "（预计）"
_ESTIMATE_EN = " (estimate)"


def _not_listed(counted: MailCount, listed: int, level: int, base_url: str) -> list[str]:
    """The line under a mail's list when it holds more items than it lists: how many more, and
    where all of them are (a reminder's items are in the inbox; an escalation's in the leader
    view, which lists what was escalated to that person)."""
    rest, total, major = counted.total - listed, counted.total, counted.major
    link = f"{base_url.rstrip('/')}/" if level == 0 else f"{base_url.rstrip('/')}/leader"
    of_them = f"，其中重大隐患 {major} 项" if major else ""
    of_them_en = f", {major} of them major hazards" if major else ""
    return [
        f"……另有 {rest} 项未逐条列出（本通知共 {total} 项{of_them}），全部见：",
        f"… and {rest} more not listed here ({total} in all{of_them_en}); see them all at:",
        f"   {link}",
        "",
    ]


def _item_block(number: int, item: ItemLine, base_url: str) -> list[str]:
    return [f"{number}. {item.title}", *_item_details(item, base_url)]


@lru_cache(maxsize=8192)  # a sweep lists an item in the mails of each person it notifies
def _item_details(item: ItemLine, base_url: str) -> tuple[str, ...]:
    where = " / ".join(part for part in (item.unit, item.site) if part) or "—"
    block = [f"   地点 where: {where}"]
    if item.severity:
        block.append(f"   等级 severity: {SEVERITY_WORDS.get(item.severity, item.severity)}")
    estimate = f"{_ESTIMATE_ZH}{_ESTIMATE_EN}" if item.estimated else ""
    block.append(f"   期限 deadline: {item.deadline.isoformat()}{estimate}")
    if item.overdue_working_days > 0:
        block.append(
            f"   已逾期 {item.overdue_working_days} 个工作日 / {item.overdue_working_days} working "
            "day(s) overdue"
        )
    block.append(f"   责任人 responsible: {item.responsible}")
    if item.temporary_measures:
        block.append(f"   临时措施 temporary measures: {item.temporary_measures}")
    block += [f"   链接 link: {item_link(base_url, item.kind, item.id)}", ""]
    return tuple(block)
