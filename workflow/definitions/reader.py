"""Campaign definitions: read the YAML, report every problem by file, line and key, build the specs
the engine runs.

The format is DESIGN.md's "Definition file (contract)", published as the JSON
schema ``definitions/schema.json`` (shipped as ``workflow.shipped``) so that
editors check a file as it is typed. The schema catches the shape (unknown
keys, types, durations, ids); the checks here catch what a schema cannot see
(an assignee that is no declared role, an id used twice, a cron expression
APScheduler rejects). All problems are collected before anything is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

from workflow.definitions.checks import (
    ANCESTOR_PREFIX,
    RESPONSIBLE,
    cross_reference_problems,
    size_problems,
)
from workflow.definitions.plan import Due, parse_date, parse_due
from workflow.durations import Duration, parse_duration, parse_time_limit
from workflow.limits import MAX_DEFINITION_BYTES
from workflow.sourcefile import (
    Problem,
    SourceError,
    SourceLines,
    read_document,
    shipped_folder,
    validated_document,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
# the leading group's usual officers coordinate unless the definition says otherwise
DEFAULT_COORDINATORS = ("leader", "deputy", "office_director")
# who an assessment item or deduction applies to, unless it says (``for:``)
SUBJECTS = ("units", "sites")
# a major letter or visit's meeting, when the definition gives no ``due``
MAJOR_MEETING_WITHIN = "3d"

Scope = Literal["group", "unit"]
Per = Literal["campaign", "unit"]


@dataclass(frozen=True)
class Role:
    """A role tasks land on: held in the campaign's unit (``group``) or in each sub-unit
    (``unit``)."""

    id: str
    title: str
    scope: Scope
    required: bool  # refuse to start when nobody holds it, even if no task names it
    title_en: str | None


@dataclass(frozen=True)
class TaskSpec:
    """A one-off task created when its phase is entered (one per sub-unit with ``per: unit``)."""

    id: str
    title: str
    assignee: str
    per: Per
    due: Due | None  # after the phase's planned start, before its planned end, or on a date
    required: bool  # blocks leaving the phase
    title_en: str | None
    description: str | None
    list: str | None = None  # with per: list, the organisation's named list to fan out over
    # ``due_from: actual``: count from the day the phase was entered, not its planned start
    due_from_actual: bool = False
    # an inspection: checked off only once its findings are recorded (no problems, or the hazards
    # registered from it: workflow/hazards/inspections.py)
    inspection: bool = False


@dataclass(frozen=True)
class RecurringSpec:
    """A duty that recurs while its phase lasts: ``every`` week/month/quarter/year or a cron
    expression.

    Declared at the top level it is campaign-wide: it runs while the campaign is in one of
    ``phases`` (None: in any phase, from the start to the close).
    """

    id: str
    title: str
    assignee: str
    per: Per
    every: str
    on: str | int | None  # a weekday for `week`, a day of the month for month/quarter/year
    due: Duration | None  # after each occurrence starts
    required: bool
    title_en: str | None
    description: str | None
    list: str | None = None
    phases: tuple[str, ...] | None = None
    inspection: bool = False  # as TaskSpec.inspection


@dataclass(frozen=True)
class LetterSpec:
    """A responsibility letter (责任书) drafted when its phase is entered: one per key site
    (``per: site``), sub-unit (``per: unit``) or list entry, issued by the holder of a
    leading-group role (``issued_by``, 甲方) and signed by ``signed_by`` (乙方): ``responsible``,
    the site's or entry's own responsible person, or a role. Its content is ``duties`` and the
    titles of the definition's ``targets`` it names."""

    id: str
    title: str
    issued_by: str
    signed_by: str
    per: str
    due: Due | None  # for signing, counted as a task's
    required: bool  # an unsigned one keeps the campaign in its phase
    title_en: str | None
    description: str | None
    duties: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    list: str | None = None
    due_from_actual: bool = False

    @property
    def assignee(self) -> str:
        """Whom each letter lands on, as a task's assignee (workflow/campaigns/fanout.py): the
        signer."""
        return self.signed_by

    def parties(self) -> tuple[str, str]:
        """The roles of its two parties, issuer first (``responsible`` is no role)."""
        return self.issued_by, self.signed_by


@dataclass(frozen=True)
class PhaseSpec:
    """A phase: a state of the campaign's machine, with its tasks and recurring duties."""

    id: str
    title: str
    duration: Duration | None
    tasks: tuple[TaskSpec, ...]
    recurring: tuple[RecurringSpec, ...]
    title_en: str | None
    description: str | None
    # the text's own dates, both inclusive (workflow/definitions/plan.py)
    starts: date | None = None
    ends: date | None = None
    letters: tuple[LetterSpec, ...] = ()  # responsibility letters drafted on entry


@dataclass(frozen=True)
class EscalationLevel:
    """Who is told once an item has been overdue for ``after``; ``responsible`` means its
    assignee."""

    after: Duration
    notify: tuple[str, ...]
    colour: str | None


@dataclass(frozen=True)
class EscalationSpec:
    """How overdue work escalates: default deadlines, the reminder, the levels in order."""

    deadline_by_severity: Mapping[str, Duration]
    remind_before: Duration | None
    levels: tuple[EscalationLevel, ...]
    # roles told at once of every hazard registered at a key site (the railway's liaisons)
    notify_site_hazards: tuple[str, ...] = ()


@dataclass(frozen=True)
class CascadeSpec:
    """Each participating sub-unit runs a campaign of its own (各级创建组织), started when the
    campaign enters phase ``when``: of ``definition`` (None: the same one) at ``version`` (None:
    the newest when the campaign starts)."""

    when: str
    definition: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class IncidentKind:
    """A kind of incident the campaign counts (案件, 事故, 事件); ``notify`` names the roles told at
    once."""

    id: str
    title: str
    notify: tuple[str, ...] = ()
    report_to: tuple[str, ...] = ()  # outside bodies as the text names them (铁路部门, 公安机关)
    title_en: str | None = None
    description: str | None = None
    # how soon after it is recorded each body must have been told; later, it escalates
    report_within: timedelta | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A goal: ``zero`` / ``reduce`` / ``max`` incidents of a kind, a ``rate`` of a measure, or
    ``judged``."""

    id: str
    title: str
    kind: str  # zero | reduce | rate | max | judged
    incident: str | None = None  # with zero, reduce, max
    measure: str | None = None  # with rate
    value: float | None = None  # rate: percent; max: the control number
    baseline: int | None = None  # reduce: the count of the period before, when none is recorded
    period: str = "campaign"  # campaign | year | quarter | month
    per: str = "unit"  # unit | campaign | site (each key site, with assessment.sites)
    bundle: str | None = None  # e.g. 五个不发生
    title_en: str | None = None
    description: str | None = None
    proposal: str | None = None  # 建议值: the text does not say this (proposals.py)


@dataclass(frozen=True)
class ScoreItem:
    """One line of the assessment checklist, worth up to ``points``."""

    id: str
    title: str
    points: float
    title_en: str | None = None
    description: str | None = None
    proposal: str | None = None  # 建议值: the text does not say this (proposals.py)
    # who is scored on it: sub-units, key sites (with ``assessment.sites``), or both
    subjects: tuple[str, ...] = SUBJECTS


@dataclass(frozen=True)
class Deduction:
    """Points taken off for ``each`` overdue task / overdue rectification / escalation / missed
    target / incident."""

    each: str
    points: float
    level: int | None = None
    target: str | None = None
    incident: str | None = None
    cap: float | None = None
    description: str | None = None
    subjects: tuple[str, ...] = SUBJECTS  # whose counts it takes off from (as ScoreItem)


@dataclass(frozen=True)
class VetoItem:
    """一票否决: an incident of a kind, a missed target, or (neither) the inspecting group's finding
    fails the unit."""

    id: str
    title: str
    incident: str | None = None
    target: str | None = None
    title_en: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CriticismRule:
    """通报批评: what puts a unit on the notice of criticism; ``accountability``: its leader is held
    to account."""

    id: str
    title: str
    incident: str | None = None
    target: str | None = None
    accountability: bool = False
    title_en: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Grades:
    """Score thresholds: at least ``commended`` is commended, at least ``passed`` passes, below is
    criticised."""

    commended: float
    passed: float


@dataclass(frozen=True)
class AssessmentSpec:
    """How sub-units are scored at the end (考核验收): items, deductions, veto, criticism, grades.
    Declarative."""

    phase: str | None = None  # None: the phase with id inspection, else the last
    scorers: tuple[str, ...] = ()  # empty: the coordinators
    items: tuple[ScoreItem, ...] = ()
    deductions: tuple[Deduction, ...] = ()
    veto: tuple[VetoItem, ...] = ()
    criticism: tuple[CriticismRule, ...] = ()
    grades: Grades | None = None
    description: str | None = None
    proposal: str | None = None  # 建议值: the text does not say this (proposals.py)
    # the key sites are scored too, each a row of its own (Lingtai: 对各部位行使直接管理责任)
    sites: bool = False

    def total_points(self) -> float:
        """The most a unit can score: the sum of the items' points."""
        return sum(item.points for item in self.items)


@dataclass(frozen=True)
class PetitionRules:
    """What the definition adds to letters and visits (信访): the meeting a major one calls for
    (重大信访会制度), a task for ``major_meeting``'s assignee due ``major_meeting_within`` after
    the day it was received."""

    major_meeting: TaskSpec | None = None
    major_meeting_within: Duration | None = None


@dataclass(frozen=True)
class PhotoRules:
    """What the server keeps of a photo handed in as evidence (``photos:``): its location (GPS
    EXIF) only where the campaign says so, since a photo of a home says where someone lives."""

    keep_location: bool = False


@dataclass(frozen=True)
class Definition:
    """A validated campaign definition, with the exact text it was read from and that text's
    hash."""

    id: str
    version: int
    title: str
    timezone: str
    roles: tuple[Role, ...]
    coordinators: tuple[str, ...]
    phases: tuple[PhaseSpec, ...]
    escalation: EscalationSpec | None
    title_en: str | None
    description: str | None
    text: str
    content_hash: str
    source: str
    # incidents, targets and assessment: acted on by workflow/assessment/incidents.py, targets.py
    # and assessment.py
    incidents: tuple[IncidentKind, ...] = ()
    targets: tuple[TargetSpec, ...] = ()
    assessment: AssessmentSpec | None = None
    recurring: tuple[RecurringSpec, ...] = ()  # campaign-wide duties (top-level ``recurring:``)
    petitions: PetitionRules | None = None
    cascade: CascadeSpec | None = None
    photos: PhotoRules = PhotoRules()

    def role(self, role_id: str) -> Role:
        """The declared role ``role_id`` (KeyError if there is none)."""
        for role in self.roles:
            if role.id == role_id:
                return role
        raise KeyError(f"definition '{self.id}' declares no role '{role_id}'")

    def phase(self, phase_id: str) -> PhaseSpec:
        """The phase ``phase_id`` (KeyError if there is none)."""
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(f"definition '{self.id}' has no phase '{phase_id}'")

    def duties(self, phase_id: str) -> tuple[RecurringSpec, ...]:
        """The recurring duties running while the campaign is in ``phase_id``: the phase's own,
        then the campaign-wide ones that cover it."""
        return (
            *self.phase(phase_id).recurring,
            *(d for d in self.recurring if d.phases is None or phase_id in d.phases),
        )

    def phase_ids(self) -> tuple[str, ...]:
        """The phase ids in order: the campaign's states between ``draft`` and ``closed``."""
        return tuple(phase.id for phase in self.phases)

    def incident(self, incident_id: str) -> IncidentKind:
        """The declared incident kind ``incident_id`` (KeyError if there is none)."""
        for kind in self.incidents:
            if kind.id == incident_id:
                return kind
        raise KeyError(f"definition '{self.id}' declares no incident kind '{incident_id}'")

    def target(self, target_id: str) -> TargetSpec:
        """The declared target ``target_id`` (KeyError if there is none)."""
        for target in self.targets:
            if target.id == target_id:
                return target
        raise KeyError(f"definition '{self.id}' declares no target '{target_id}'")

    def scoring_phase(self) -> str | None:
        """The phase in which scores are entered: the assessment's ``phase``, else ``inspection``,
        else the last."""
        if self.assessment is None:
            return None
        if self.assessment.phase is not None:
            return self.assessment.phase
        ids = self.phase_ids()
        return "inspection" if "inspection" in ids else ids[-1]

    def next_phase(self, phase_id: str) -> str | None:
        """The phase after ``phase_id``, or None after the last one (the campaign closes)."""
        ids = self.phase_ids()
        position = ids.index(self.phase(phase_id).id)
        return ids[position + 1] if position + 1 < len(ids) else None

    def referenced_roles(self) -> set[str]:
        """The roles some task, recurring duty or escalation level needs someone to hold."""
        needed = {
            spec.assignee for phase in self.phases for spec in (*phase.tasks, *phase.recurring)
        }
        needed.update(duty.assignee for duty in self.recurring)
        if self.petitions is not None and self.petitions.major_meeting is not None:
            needed.add(self.petitions.major_meeting.assignee)
        for phase in self.phases:
            needed.update(role for letter in phase.letters for role in letter.parties())
        if self.escalation is not None:
            needed.update(
                role
                for level in self.escalation.levels
                for role in level.notify
                if ancestor_role(role)[0] == 0  # an ancestor's roles are bound in its campaign
            )
        needed.discard(RESPONSIBLE)
        return needed


def ancestor_role(notified: str) -> tuple[int, str]:
    """How many levels up a notified role is held, and the role: ``parent.parent.leader`` is
    (2, "leader"), ``office_director`` (0, "office_director")."""
    depth = 0
    while notified.startswith(ANCESTOR_PREFIX):
        notified = notified[len(ANCESTOR_PREFIX) :]
        depth += 1
    return depth, notified


class DefinitionError(SourceError):
    """A definition file that cannot be used; ``problems`` says where and why (file:line: key:
    message)."""


class DefinitionNotFound(DefinitionError):
    """No definition file for a reference (a path, or an id and perhaps a version)."""


def parse_definition(
    text: str | bytes, source: str = "<definition>", *, bounded: bool = True
) -> Definition:
    """Parse and validate a definition; raise :class:`DefinitionError` listing every problem
    found.

    ``bounded``: refuse a definition over the size limits of workflow/limits.py first, alone, in
    a fraction of a second (False for a definition accepted when it was stored: a limit lowered
    since must not stop the campaigns running on it).
    """
    if bounded:
        size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
        _check_file_size(size, source)
    text, data = validated_document(
        text,
        source,
        "schema.json",
        (cross_reference_problems, _declarative_problems),
        DefinitionError,
        bounds=size_problems if bounded else None,
    )
    return _definition(data, text, source)


def load_definition_file(path: str | Path) -> Definition:
    """Read and validate the definition file at ``path`` (problems name the path as given); a
    file over MAX_DEFINITION_BYTES is refused before it is read."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = 0  # reading says why it cannot be read
    _check_file_size(size, str(path))
    return parse_definition(read_document(path, DefinitionError), str(path))


def find_definition(
    ref: str, version: int | None = None, search_path: Sequence[Path] | None = None
) -> Path:
    """The definition file ``ref`` names: a path to a file, or a definition id.

    An id is looked up in ``search_path`` (default: the shipped definitions;
    the ``pingan`` command puts ``PINGAN_DEFINITIONS_PATH``'s folders first,
    through :func:`definition_folders`), among ``*.yaml``
    files whose top-level ``id`` is ``ref``; the given ``version``, or the
    highest. For a version found in two folders, the earlier folder wins.
    """
    if Path(ref).is_file():
        return Path(ref)
    folders = list(search_path) if search_path is not None else definition_folders()
    versions: dict[int, Path] = {}
    for path in _yaml_files(folders):
        identity = _identity(path)
        if identity is not None and identity[0] == ref:
            versions.setdefault(identity[1], path)
    if not versions:
        where = ", ".join(str(folder) for folder in folders) or "no folders"
        raise DefinitionNotFound(
            [], f"no definition '{ref}': not a file, and no definition with that id in {where}"
        )
    if version is None:
        return versions[max(versions)]
    if version not in versions:
        known = ", ".join(str(v) for v in sorted(versions))
        raise DefinitionNotFound(
            [], f"definition '{ref}' has no version {version} (versions found: {known})"
        )
    return versions[version]


def definition_folders(extra: Sequence[Path] = ()) -> list[Path]:
    """Where definition ids are looked up: the ``extra`` folders (``PINGAN_DEFINITIONS_PATH``'s),
    then the shipped ones."""
    folders = list(extra)
    shipped = shipped_folder()
    if isinstance(shipped, Path):  # a package inside a zip file has no folder to search
        folders.append(shipped)
    return folders


@dataclass(frozen=True)
class DefinitionFile:
    """A definition file found in a folder, by its top-level keys (not yet validated)."""

    id: str
    version: int
    title: str
    path: Path


def definition_files(search_path: Sequence[Path] | None = None) -> list[DefinitionFile]:
    """Every definition file of ``search_path`` (default: the shipped ones), one per (id,
    version): the earlier folder wins, as :func:`find_definition` finds them."""
    folders = list(search_path) if search_path is not None else definition_folders()
    found: dict[tuple[str, int], DefinitionFile] = {}
    for path in _yaml_files(folders):
        head = _head(path)
        identity = _identity(path, head)
        if identity is not None and identity not in found:
            found[identity] = DefinitionFile(*identity, head.get("title") or identity[0], path)
    return sorted(found.values(), key=lambda file: (file.id, file.version))


# --- the size limit -----------------------------------------------------------------------------


def _check_file_size(size: int, source: str) -> None:
    if size > MAX_DEFINITION_BYTES:
        message = (
            f"the file has {size:,} bytes; a definition may have at most "
            f"{MAX_DEFINITION_BYTES:,} ({MAX_DEFINITION_BYTES // 1024} KiB)"
        )
        raise DefinitionError([Problem(source, 0, "", message)])


# --- building the specs from validated data -----------------------------------------------------


def _definition(data: dict[str, Any], text: str, source: str) -> Definition:
    roles = tuple(
        Role(
            r["id"],
            r["title"],
            r.get("scope", "group"),
            r.get("required", False),
            r.get("title_en"),
        )
        for r in data.get("roles", [])
    )
    declared = {role.id for role in roles}
    coordinators = data.get("coordinators")
    if coordinators is None:
        coordinators = [role for role in DEFAULT_COORDINATORS if role in declared]
    return Definition(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
        roles=roles,
        coordinators=tuple(coordinators),
        phases=tuple(_phase(phase) for phase in data["phases"]),
        escalation=_escalation(data["escalation"]) if "escalation" in data else None,
        title_en=data.get("title_en"),
        description=data.get("description"),
        text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=source,
        incidents=tuple(_incident(kind) for kind in data.get("incidents", [])),
        targets=tuple(_target(target) for target in data.get("targets", [])),
        assessment=_assessment(data["assessment"]) if "assessment" in data else None,
        recurring=tuple(_recurring(duty) for duty in data.get("recurring", [])),
        petitions=_petitions(data["petitions"]) if "petitions" in data else None,
        cascade=CascadeSpec(**data["cascade"]) if "cascade" in data else None,
        photos=PhotoRules(**data.get("photos", {})),
    )


def _petitions(data: dict[str, Any]) -> PetitionRules:
    meeting = data.get("major_meeting")
    if meeting is None:
        return PetitionRules()
    spec = TaskSpec(
        id=meeting["id"],
        title=meeting["title"],
        assignee=meeting["assignee"],
        per="campaign",
        due=None,  # counted from the day the letter or visit was received, not a phase
        required=meeting.get("required", True),
        title_en=meeting.get("title_en"),
        description=meeting.get("description"),
    )
    return PetitionRules(spec, parse_duration(meeting.get("due", MAJOR_MEETING_WITHIN)))


def _phase(data: dict[str, Any]) -> PhaseSpec:
    return PhaseSpec(
        id=data["id"],
        title=data.get("title", data["id"]),  # DESIGN.md's example leaves most phases untitled
        duration=_optional_duration(data.get("duration")),
        tasks=tuple(_task(task) for task in data.get("tasks", [])),
        recurring=tuple(_recurring(duty) for duty in data.get("recurring", [])),
        title_en=data.get("title_en"),
        description=data.get("description"),
        starts=parse_date(data["starts"]) if "starts" in data else None,
        ends=parse_date(data["ends"]) if "ends" in data else None,
        letters=tuple(_letter(letter) for letter in data.get("letters", [])),
    )


def _task(data: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        id=data["id"],
        title=data["title"],
        assignee=data["assignee"],
        per=data.get("per", "campaign"),
        due=parse_due(data["due"]) if "due" in data else None,
        required=data.get("required", True),
        title_en=data.get("title_en"),
        description=data.get("description"),
        list=data.get("list"),
        due_from_actual=data.get("due_from") == "actual",
        inspection=data.get("inspection", False),
    )


def _letter(data: dict[str, Any]) -> LetterSpec:
    return LetterSpec(
        id=data["id"],
        title=data["title"],
        issued_by=data["issued_by"],
        signed_by=data["signed_by"],
        per=data.get("per", "campaign"),
        due=parse_due(data["due"]) if "due" in data else None,
        required=data.get("required", True),
        title_en=data.get("title_en"),
        description=data.get("description"),
        duties=tuple(data.get("duties", [])),
        targets=tuple(data.get("targets", [])),
        list=data.get("list"),
        due_from_actual=data.get("due_from") == "actual",
    )


def _recurring(data: dict[str, Any]) -> RecurringSpec:
    phases = data.get("phases")
    return RecurringSpec(
        id=data["id"],
        title=data["title"],
        assignee=data["assignee"],
        per=data.get("per", "campaign"),
        every=data["every"],
        on=data.get("on"),
        due=_optional_duration(data.get("due")),
        required=data.get("required", True),
        title_en=data.get("title_en"),
        description=data.get("description"),
        list=data.get("list"),
        phases=tuple(phases) if phases is not None else None,
        inspection=data.get("inspection", False),
    )


def _escalation(data: dict[str, Any]) -> EscalationSpec:
    deadlines = {
        severity: parse_duration(text)
        for severity, text in data.get("deadline_by_severity", {}).items()
    }
    return EscalationSpec(
        deadline_by_severity=MappingProxyType(deadlines),
        remind_before=_optional_duration(data.get("remind_before")),
        levels=tuple(
            EscalationLevel(
                parse_duration(level["after"]), tuple(level["notify"]), level.get("colour")
            )
            for level in data.get("levels", [])
        ),
        notify_site_hazards=tuple(data.get("notify_site_hazards", [])),
    )


def _incident(data: dict[str, Any]) -> IncidentKind:
    return IncidentKind(
        id=data["id"],
        title=data["title"],
        notify=tuple(data.get("notify", [])),
        report_to=tuple(data.get("report_to", [])),
        title_en=data.get("title_en"),
        description=data.get("description"),
        report_within=(
            parse_time_limit(data["report_within"]) if data.get("report_within") else None
        ),
    )


def _target(data: dict[str, Any]) -> TargetSpec:
    return TargetSpec(
        id=data["id"],
        title=data["title"],
        kind=data["kind"],
        incident=data.get("incident"),
        measure=data.get("measure"),
        value=data.get("value"),
        baseline=data.get("baseline"),
        period=data.get("period", "campaign"),
        per=data.get("per", "unit"),
        bundle=data.get("bundle"),
        title_en=data.get("title_en"),
        description=data.get("description"),
        proposal=data.get("proposal"),
    )


def _assessment(data: dict[str, Any]) -> AssessmentSpec:
    grades = data.get("grades")
    return AssessmentSpec(
        phase=data.get("phase"),
        scorers=tuple(data.get("scorers", [])),
        items=tuple(
            ScoreItem(
                item["id"],
                item["title"],
                item["points"],
                item.get("title_en"),
                item.get("description"),
                item.get("proposal"),
                tuple(item.get("for", SUBJECTS)),
            )
            for item in data.get("items", [])
        ),
        deductions=tuple(
            Deduction(
                d["each"],
                d["points"],
                d.get("level"),
                d.get("target"),
                d.get("incident"),
                d.get("cap"),
                d.get("description"),
                tuple(d.get("for", SUBJECTS)),
            )
            for d in data.get("deductions", [])
        ),
        veto=tuple(
            VetoItem(
                v["id"],
                v["title"],
                v.get("incident"),
                v.get("target"),
                v.get("title_en"),
                v.get("description"),
            )
            for v in data.get("veto", [])
        ),
        criticism=tuple(
            CriticismRule(
                c["id"],
                c["title"],
                c.get("incident"),
                c.get("target"),
                c.get("accountability", False),
                c.get("title_en"),
                c.get("description"),
            )
            for c in data.get("criticism", [])
        ),
        grades=Grades(grades["commended"], grades["passed"]) if grades is not None else None,
        description=data.get("description"),
        proposal=data.get("proposal"),
        sites=data.get("sites", False),
    )


def _optional_duration(text: str | None) -> Duration | None:
    return parse_duration(text) if text is not None else None


# --- checks of the declarative blocks (incidents, targets, assessment) --------------------------


def _declarative_problems(data: dict[str, Any], lines: SourceLines) -> list[Problem]:
    """Cross-references of the incidents, targets and assessment blocks (the data may also break the
    schema)."""
    problems: list[Problem] = []
    roles = _ids(data.get("roles"))
    phases = _ids(data.get("phases"))

    def unique(items: object, path: tuple[str | int, ...], what: str) -> set[str]:
        seen: dict[str, int] = {}
        for index, item in _mappings(items):
            item_id = item.get("id")
            if not isinstance(item_id, str):
                continue
            if item_id in seen:
                problems.append(
                    lines.problem(
                        (*path, index, "id"),
                        f"duplicate {what} id '{item_id}' (first at line {seen[item_id]})",
                    )
                )
            else:
                seen[item_id] = lines.line_of((*path, index, "id"))
        return set(seen)

    def known(
        value: object, declared: set[str], path: tuple[str | int, ...], what: str, where: str
    ) -> None:
        if isinstance(value, str) and value not in declared:
            listed = ", ".join(sorted(declared)) or "none"
            problems.append(lines.problem(path, f"unknown {what} '{value}' ({where}: {listed})"))

    incidents = unique(data.get("incidents"), ("incidents",), "incident kind")
    for index, kind in _mappings(data.get("incidents")):
        notify = kind.get("notify")
        for position, role in enumerate(notify if isinstance(notify, list) else []):
            known(role, roles, ("incidents", index, "notify", position), "role", "declared roles")

    targets = unique(data.get("targets"), ("targets",), "target")
    for index, target in _mappings(data.get("targets")):
        known(
            target.get("incident"),
            incidents,
            ("targets", index, "incident"),
            "incident kind",
            "declared under incidents",
        )
        if target.get("kind") in ("rate", "judged") and "incident" in target:
            problems.append(
                lines.problem(
                    ("targets", index, "incident"),
                    f"a {target['kind']} target counts no incidents: remove 'incident'",
                )
            )
        if target.get("kind") != "rate" and "measure" in target:
            problems.append(
                lines.problem(
                    ("targets", index, "measure"), "'measure' is only used with kind: rate"
                )
            )

    assessment = data.get("assessment")
    if not isinstance(assessment, dict):
        return problems
    known(assessment.get("phase"), phases, ("assessment", "phase"), "phase", "phases")
    scorers = assessment.get("scorers")
    for position, role in enumerate(scorers if isinstance(scorers, list) else []):
        known(role, roles, ("assessment", "scorers", position), "role", "declared roles")
    unique(assessment.get("items"), ("assessment", "items"), "score item")
    levels = (
        (data.get("escalation") or {}).get("levels")
        if isinstance(data.get("escalation"), dict)
        else None
    )
    for index, deduction in _mappings(assessment.get("deductions")):
        path = ("assessment", "deductions", index)
        known(
            deduction.get("target"), targets, (*path, "target"), "target", "declared under targets"
        )
        known(
            deduction.get("incident"),
            incidents,
            (*path, "incident"),
            "incident kind",
            "declared under incidents",
        )
        each = deduction.get("each")
        for key, wanted in (
            ("target", "missed_target"),
            ("incident", "incident"),
            ("level", "escalation"),
        ):
            if key in deduction and each != wanted:
                problems.append(
                    lines.problem((*path, key), f"'{key}' is only used with each: {wanted}")
                )
        level = deduction.get("level")
        if isinstance(level, int) and isinstance(levels, list) and level > len(levels):
            problems.append(
                lines.problem(
                    (*path, "level"),
                    f"escalation level {level} does not exist (escalation has {len(levels)})",
                )
            )
    for block, what in (("veto", "veto item"), ("criticism", "criticism rule")):
        unique(assessment.get(block), ("assessment", block), what)
        for index, item in _mappings(assessment.get(block)):
            known(
                item.get("target"),
                targets,
                ("assessment", block, index, "target"),
                "target",
                "declared under targets",
            )
            known(
                item.get("incident"),
                incidents,
                ("assessment", block, index, "incident"),
                "incident kind",
                "declared under incidents",
            )
    grades = assessment.get("grades")
    if isinstance(grades, dict):
        commended, passed = grades.get("commended"), grades.get("passed")
        if _number(commended) and _number(passed) and commended < passed:
            problems.append(
                lines.problem(
                    ("assessment", "grades", "commended"),
                    f"commended ({commended}) must be at least passed ({passed})",
                )
            )
        total = sum(
            item["points"]
            for _index, item in _mappings(assessment.get("items"))
            if _number(item.get("points"))
        )
        if total and _number(passed) and passed > total:
            problems.append(
                lines.problem(
                    ("assessment", "grades", "passed"),
                    f"passed ({passed}) is more than the items' total points ({total:g})",
                )
            )
    return problems


def _mappings(items: object) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def _ids(items: object) -> set[str]:
    return {item["id"] for _index, item in _mappings(items) if isinstance(item.get("id"), str)}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- finding definitions by id ------------------------------------------------------------------


def _yaml_files(folders: Sequence[Path]) -> Iterator[Path]:
    for folder in folders:
        if folder.is_dir():
            yield from sorted(folder.glob("*.yaml"))


def _identity(path: Path, head: dict[str, str] | None = None) -> tuple[str, int] | None:
    """A file's top-level ``id`` and ``version``, without building or validating the rest."""
    head = _head(path) if head is None else head
    definition_id, version = head.get("id"), head.get("version", "")
    if definition_id is None or not version.isdigit():
        return None
    return definition_id, int(version)


def _head(path: Path) -> dict[str, str]:
    """A file's top-level scalar keys (empty when it cannot be read as a mapping)."""
    try:
        root = yaml.compose(path.read_bytes(), Loader=yaml.SafeLoader)
    # RecursionError: nesting deeper than PyYAML's stack
    except (
        OSError,
        yaml.YAMLError,
        RecursionError,
    ):
        return {}  # not ours to report here: `pingan validate` names what is wrong with it
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {
        k.value: v.value
        for k, v in root.value
        if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
    }
