"""The checks a JSON schema cannot make on a definition: cross-references, duplicates, cron
expressions, the text's dates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflow.definitions.cron import crontab_trigger
from workflow.definitions.plan import DATE_PATTERN, parse_date
from workflow.durations import Duration, parse_duration
from workflow.limits import MAX_PHASES, MAX_TASKS, MAX_TASKS_PER_PHASE
from workflow.sourcefile import Problem, SourceLines

RESPONSIBLE = "responsible"
# before a notified role: the role of the parent campaign (a cascade), twice the grandparent's
ANCESTOR_PREFIX = "parent."
EVERY_KEYWORDS = ("week", "month", "quarter", "year")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def cross_reference_problems(data: dict[str, Any], lines: SourceLines) -> list[Problem]:
    """Every cross-reference problem of a parsed definition (the data may also break the schema)."""
    return _Checks(data, lines).run()


def size_problems(data: dict[str, Any], lines: SourceLines) -> list[Problem]:
    """Phases and tasks beyond the limits of workflow/limits.py; cheap, so it runs before the
    schema and the checks, which would take their time over every task (the data may break the
    schema: only lists are counted)."""
    phases = data.get("phases")
    if not isinstance(phases, list):
        return []
    if len(phases) > MAX_PHASES:
        return [
            lines.problem(
                ("phases",),
                f"{len(phases)} phases: a definition may have at most {MAX_PHASES}",
            )
        ]
    problems, total = [], 0
    for index, phase in enumerate(phases):
        if not isinstance(phase, dict):
            continue
        for key, what in (("tasks", "tasks"), ("recurring", "recurring duties")):
            items = phase.get(key)
            count = len(items) if isinstance(items, list) else 0
            total += count
            if count > MAX_TASKS_PER_PHASE:
                problems.append(
                    lines.problem(
                        ("phases", index, key),
                        f"{count} {what}: a phase may have at most {MAX_TASKS_PER_PHASE}",
                    )
                )
    standing = data.get("recurring")  # campaign-wide duties count like a phase's
    if isinstance(standing, list):
        total += len(standing)
        if len(standing) > MAX_TASKS_PER_PHASE:
            problems.append(
                lines.problem(
                    ("recurring",),
                    f"{len(standing)} campaign-wide recurring duties: at most "
                    f"{MAX_TASKS_PER_PHASE}",
                )
            )
    if not problems and total > MAX_TASKS:
        problems.append(
            lines.problem(
                ("phases",),
                f"{total} tasks and recurring duties in all: a definition may have at most "
                f"{MAX_TASKS}",
            )
        )
    return problems


_CRON_FIELDS = re.compile(r"^\S+(\s+\S+){4}$")


class _Checks:
    """Cross-references inside a definition. The data may break the schema: look only at what has
    the right shape."""

    def __init__(self, data: dict[str, Any], lines: SourceLines) -> None:
        self.data = data
        self.lines = lines
        self.problems: list[Problem] = []
        self.roles: dict[str, dict[str, Any]] = {}

    def run(self) -> list[Problem]:
        self._timezone()
        self._roles()
        self._coordinators()
        self._phases()
        self._phase_dates()
        self._escalation()
        self._cascade()
        self._incidents()
        self._petitions()
        self._scored_sites()
        return self.problems

    def _problem(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(self.lines.problem(path, message))

    def _timezone(self) -> None:
        zone = self.data.get("timezone")
        if isinstance(zone, str):
            try:
                ZoneInfo(zone)
            # OSError: `Asia` is a folder of tzdata
            except (
                ZoneInfoNotFoundError,
                ValueError,
                OSError,
            ):
                self._problem(
                    ("timezone",),
                    f"unknown timezone '{zone}' (use an IANA name such as Asia/Shanghai)",
                )

    def _roles(self) -> None:
        first: dict[str, int] = {}
        for path, role in _items(self.data, "roles"):
            role_id = role.get("id")
            if not isinstance(role_id, str):
                continue
            if role_id in first:
                self._problem(
                    (*path, "id"), f"duplicate role id '{role_id}' (first at line {first[role_id]})"
                )
            else:
                first[role_id] = self.lines.line_of((*path, "id"))
                self.roles[role_id] = role

    def _coordinators(self) -> None:
        coordinators = self.data.get("coordinators")
        if isinstance(coordinators, list):
            for index, role_id in enumerate(coordinators):
                self._known_role(("coordinators", index), role_id)

    def _phases(self) -> None:
        phase_lines: dict[str, int] = {}
        # tasks and recurring duties share one namespace: ids name tasks in the UI
        spec_lines: dict[str, int] = {}
        specs: list[tuple[tuple[str | int, ...], dict[str, Any], str]] = []
        for path, phase in _items(self.data, "phases"):
            phase_id = phase.get("id")
            if isinstance(phase_id, str):
                if phase_id in phase_lines:
                    self._problem(
                        (*path, "id"),
                        f"duplicate phase id '{phase_id}' (first at line {phase_lines[phase_id]})",
                    )
                else:
                    phase_lines[phase_id] = self.lines.line_of((*path, "id"))
            # letters share the namespace too: a letter's id names it beside the tasks
            for kind in ("tasks", "recurring", "letters"):
                specs += [(spec_path, spec, kind) for spec_path, spec in _items(phase, kind, path)]
                if kind == "recurring":
                    for spec_path, spec in _items(phase, kind, path):
                        if "phases" in spec:
                            self._problem(
                                (*spec_path, "phases"),
                                "'phases' is only used on a duty declared at the top level "
                                "(recurring: beside phases:)",
                            )
        for spec_path, spec in _items(self.data, "recurring"):
            specs.append((spec_path, spec, "recurring"))
            listed = spec.get("phases")
            for index, phase_id in enumerate(listed if isinstance(listed, list) else []):
                if isinstance(phase_id, str) and phase_id not in phase_lines:
                    known = ", ".join(phase_lines) or "none"
                    self._problem(
                        (*spec_path, "phases", index),
                        f"unknown phase '{phase_id}' (phases: {known})",
                    )
        for spec_path, spec, kind in specs:
            spec_id = spec.get("id")
            if isinstance(spec_id, str):
                if spec_id in spec_lines:
                    self._problem(
                        (*spec_path, "id"),
                        f"duplicate id '{spec_id}' (first at line {spec_lines[spec_id]})",
                    )
                else:
                    spec_lines[spec_id] = self.lines.line_of((*spec_path, "id"))
            if kind == "letters":
                self._letter(spec_path, spec)
            else:
                self._assignee(spec_path, spec)
            if kind == "recurring":
                self._schedule(spec_path, spec)

    def _phase_dates(self) -> None:
        """The text's dates: real days, each phase ending after it starts and before the next
        begins, the first phase dated whenever another is, a ``-5d`` due only where the phase's
        end is planned."""
        dated: list[tuple[tuple[str | int, ...], date | None, date | None]] = []
        for path, phase in _items(self.data, "phases"):
            starts, ends = (self._date((*path, key), phase.get(key)) for key in ("starts", "ends"))
            if starts and ends and ends < starts:
                self._problem(
                    (*path, "ends"), f"the phase ends ({ends}) before it starts ({starts})"
                )
            dated.append((path, starts, ends))
            has_end = ends is not None or phase.get("duration") is not None
            dated_items = [*_items(phase, "tasks", path), *_items(phase, "letters", path)]
            for task_path, task in dated_items:
                due = task.get("due")
                if isinstance(due, str):
                    if DATE_PATTERN.match(due):
                        self._date((*task_path, "due"), due)
                    elif due.startswith("-") and not has_end:
                        self._problem(
                            (*task_path, "due"),
                            f"'{due}' counts back from the phase's end, but the phase has no "
                            "planned end: give it 'ends' or 'duration'",
                        )
        if not dated:
            return
        first = next(_items(self.data, "phases"))[1]
        if any(starts or ends for _, starts, ends in dated[1:]) and "starts" not in first:
            self._problem(
                (*dated[0][0], "id"),
                "later phases carry the text's dates: give the first phase its 'starts' too",
            )
        previous: date | None = None
        for path, starts, ends in dated:
            if starts and previous and starts <= previous:
                self._problem(
                    (*path, "starts"),
                    f"the phase starts ({starts}) before the one before it ends ({previous})",
                )
            previous = ends or starts or previous

    def _date(self, path: tuple[str | int, ...], value: object) -> date | None:
        if not isinstance(value, str) or not DATE_PATTERN.match(value):
            return None  # the schema names a malformed one
        try:
            return parse_date(value)
        except ValueError as error:
            self._problem(path, str(error))
            return None

    def _letter(self, path: tuple[str | int, ...], spec: dict[str, Any]) -> None:
        """A letter's two parties and its targets: issued by a leading-group role (the campaign's
        top unit signs as 甲方), signed as a task is assigned; each target one the definition
        declares."""
        issuer = spec.get("issued_by")
        if issuer == RESPONSIBLE:
            self._problem(
                (*path, "issued_by"),
                "a letter is issued by a leading-group role of the campaign's unit, not by "
                "'responsible'",
            )
        elif self._known_role((*path, "issued_by"), issuer) and (
            self.roles[issuer].get("scope") == "unit"
        ):
            self._problem(
                (*path, "issued_by"),
                f"role '{issuer}' is held in each sub-unit (scope: unit): a letter is issued by a "
                "leading-group role of the campaign's unit",
            )
        self._assignee(path, spec, key="signed_by")
        declared = {
            target["id"]
            for _target_path, target in _items(self.data, "targets")
            if isinstance(target.get("id"), str)  # the schema has said what else is wrong
        }
        listed = spec.get("targets")
        for index, target_id in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(target_id, str) and target_id not in declared:
                known = ", ".join(sorted(declared)) or "none"
                self._problem(
                    (*path, "targets", index),
                    f"unknown target '{target_id}' (declared under targets: {known})",
                )

    def _assignee(
        self, path: tuple[str | int, ...], spec: dict[str, Any], key: str = "assignee"
    ) -> None:
        assignee, per = spec.get(key), spec.get("per", "campaign")
        if per == "list" and not isinstance(spec.get("list"), str):
            self._problem(
                (*path, "per"),
                "per: list needs 'list': the id of a named list of the organisation file",
            )
        if per != "list" and "list" in spec:
            self._problem((*path, "list"), "'list' is only used with per: list")
        if assignee == RESPONSIBLE:
            if per not in ("site", "list"):
                self._problem(
                    (*path, key),
                    f"{key} 'responsible' means the key site's or list entry's "
                    "responsible person: it needs per: site or per: list",
                )
            return
        if not self._known_role((*path, key), assignee):
            return
        if self.roles[assignee].get("scope") == "unit" and per == "campaign":
            self._problem(
                (*path, key),
                f"role '{assignee}' is held in each sub-unit (scope: unit), so it needs 'per: "
                "unit' "
                f"(one item per sub-unit); or assign a leading-group role",
            )

    def _schedule(self, path: tuple[str | int, ...], spec: dict[str, Any]) -> None:
        every, on = spec.get("every"), spec.get("on")
        if not isinstance(every, str):
            return
        if every in EVERY_KEYWORDS:
            if every == "week" and on is not None and on not in WEEKDAYS:
                self._problem(
                    (*path, "on"), f"every: week starts on a weekday (monday … sunday), not {on!r}"
                )
            elif every != "week" and on is not None and isinstance(on, str):
                self._problem(
                    (*path, "on"),
                    f"every: {every} starts on a day of the month (1 … 31), not {on!r}",
                )
            return
        if not _CRON_FIELDS.match(every):
            return  # the schema has said what is wrong
        try:
            crontab_trigger(every, "UTC")
        except ValueError as error:
            self._problem((*path, "every"), f"bad cron expression '{every}': {error}")
            return
        if on is not None:
            self._problem((*path, "on"), "a cron expression already says when: remove 'on'")

    def _cascade(self) -> None:
        cascade = self.data.get("cascade")
        # a phase id of another shape (a list, a mapping) is the schema's problem, not a crash here
        phases = [
            phase["id"]
            for _path, phase in _items(self.data, "phases")
            if isinstance(phase.get("id"), str)
        ]
        if isinstance(cascade, dict) and isinstance(cascade.get("when"), str):
            if cascade["when"] not in phases:
                known = ", ".join(phases) or "none"
                self._problem(
                    ("cascade", "when"), f"unknown phase '{cascade['when']}' (phases: {known})"
                )

    def _escalation(self) -> None:
        escalation = self.data.get("escalation")
        if not isinstance(escalation, dict):
            return
        previous: Duration | None = None
        for path, level in _items(escalation, "levels", ("escalation",)):
            notify = level.get("notify")
            if isinstance(notify, list):
                for index, role_id in enumerate(notify):
                    # an ancestor's role is checked against its definition when the cascade starts
                    if role_id != RESPONSIBLE and not str(role_id).startswith(ANCESTOR_PREFIX):
                        self._known_role((*path, "notify", index), role_id)
            after = _duration_or_none(level.get("after"))
            # levels are reached in order; d and wd cannot be compared without dates
            if (
                after
                and previous
                and after.unit == previous.unit
                and after.amount < previous.amount
            ):
                self._problem(
                    (*path, "after"),
                    f"levels must come in order of 'after': {after} comes after {previous}",
                )
            previous = after or previous
        notify = escalation.get("notify_site_hazards")
        if isinstance(notify, list):
            for index, role_id in enumerate(notify):
                self._known_role(("escalation", "notify_site_hazards", index), role_id)

    def _incidents(self) -> None:
        for path, kind in _items(self.data, "incidents", ()):
            if kind.get("report_within") is not None and not kind.get("report_to"):
                self._problem(
                    (*path, "report_within"),
                    "report_within needs report_to: name the bodies to be told in time",
                )

    def _petitions(self) -> None:
        petitions = self.data.get("petitions")
        meeting = petitions.get("major_meeting") if isinstance(petitions, dict) else None
        if not isinstance(meeting, dict):
            return
        path = ("petitions", "major_meeting", "assignee")
        role_id = meeting.get("assignee")
        if self._known_role(path, role_id) and self.roles[role_id].get("scope") == "unit":
            self._problem(
                path, f"role '{role_id}' is a sub-unit's: the meeting is the leading group's"
            )

    def _scored_sites(self) -> None:
        assessment = self.data.get("assessment")
        if isinstance(assessment, dict) and assessment.get("sites") is True:
            return
        for path, target in _items(self.data, "targets"):
            if target.get("per") == "site":
                self._problem(
                    (*path, "per"),
                    "per: site holds each key site to it, but assessment.sites is not true",
                )
        if not isinstance(assessment, dict):
            return
        for key in ("items", "deductions"):
            for path, entry in _items(assessment, key, ("assessment",)):
                if entry.get("for") == ["sites"]:
                    self._problem(
                        (*path, "for"),
                        "only key sites are scored on this, but assessment.sites is not true: "
                        "nobody is",
                    )

    def _known_role(self, path: tuple[str | int, ...], role_id: object) -> bool:
        if not isinstance(role_id, str):
            return False
        if role_id not in self.roles:
            declared = ", ".join(self.roles) or "none"
            self._problem(path, f"unknown role '{role_id}' (declared roles: {declared})")
            return False
        return True


def _items(
    container: dict[str, Any], key: str, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """The mappings of a list under ``key``, with their paths; anything of another shape is
    skipped."""
    items = container.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield (*prefix, key, index), item


def _duration_or_none(value: object) -> Duration | None:
    try:
        return parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        return None
