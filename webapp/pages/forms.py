"""The pages' forms (Flask-WTF): each carries a CSRF token; labels and messages are in the
catalogues.

The forms check only shape (required, length, a whole number); whether a
move is allowed is the engine's to say. A form that creates something
(``OneTimeForm``) carries a one-time key made when it is rendered, so that the
same form posted twice creates one thing (``workflow/form_keys.py``). Their bounds are the engine's
(``workflow/limits.py``), and WTForms writes them into the fields as
``maxlength``, ``min`` and ``max``, so the browser stops what the engine would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, NumberRange, Optional

from webapp.pages.common import refused_as_invalid
from workflow.form_keys import new_key
from workflow.limits import (
    EMAIL_LIMIT,
    FORM_KEY_LIMIT,
    LOCATION_LIMIT,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_WORKING_DAYS,
    NOTE_LIMIT,
    PASSWORD_LIMIT,
    TEXT_LIMIT,
    VIEW_NAME_LIMIT,
)

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label) pairs
    SelectChoice = None


def options(pairs: Iterable[tuple[str, Any]]) -> list[Any]:
    """Choices of a select field, in the form this WTForms version wants (3.3 deprecates pairs)."""
    return [
        SelectChoice(value, label) if SelectChoice else (value, label) for value, label in pairs
    ]


class SignInForm(FlaskForm):
    # named "email" as ever (scripts post it), it takes a mobile number as well
    email = StringField(
        _l("E-mail or mobile number"),
        validators=[
            DataRequired(_l("Enter your e-mail address or mobile number.")),
            Length(max=EMAIL_LIMIT),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=PASSWORD_LIMIT)],
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    """The person's own password change; the engine checks the current one and the rules."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=PASSWORD_LIMIT)],
    )
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=PASSWORD_LIMIT)],
    )
    again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new", _l("The two new passwords differ.")),
        ],
    )


class OneTimeForm(FlaskForm):
    """A form that creates something: a double click or a reload of the page its post answered
    sends it again, and the engine creates nothing for a key it has seen (workflow/form_keys.py).

    The key is made when the form is rendered (a form shown again with what was typed keeps its
    key: nothing was created). A post without one is not checked.
    """

    form_key = HiddenField(default=new_key, validators=[Optional(), Length(max=FORM_KEY_LIMIT)])


class ActionForm(FlaskForm):
    """A button with nothing to fill in (sign out, advance, verify): the CSRF token is the whole
    form."""

    next = HiddenField()


class LetterMoveForm(OneTimeForm):
    """Issue or sign a responsibility letter: a button, its one-time key, and the page to go back
    to (the inbox, or the letter's page)."""

    next = HiddenField()


class LanguageForm(FlaskForm):
    language = HiddenField()
    next = HiddenField()


EVIDENCE_LABEL = _l(
    "Evidence (photos or PDF, at most %(files)d files of %(mb)d MB)",
    files=MAX_FILES,
    mb=MAX_FILE_BYTES // 1024 // 1024,
)


class CheckOffForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)])
    evidence = MultipleFileField(EVIDENCE_LABEL)
    # an inspection's findings when it found nothing (what it found is registered from its page)
    no_problems = BooleanField(_l("No problems found"))
    next = HiddenField()


class BulkCheckOffForm(FlaskForm):
    note = TextAreaField(
        _l("Note for all selected tasks"), validators=[Optional(), Length(max=NOTE_LIMIT)]
    )


class ReportFixedForm(OneTimeForm):
    note = TextAreaField(
        _l("What was done"),
        validators=[DataRequired(_l("Say what was done.")), Length(max=NOTE_LIMIT)],
    )
    # stage "after": shown beside the hazard's photos where a coordinator verifies it
    photos = MultipleFileField(_l("Photos after the fix"))
    evidence = MultipleFileField(_l("Other documents (PDF)"))
    next = HiddenField()


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)])
    next = HiddenField()


class ReasonForm(FlaskForm):
    """Sending a task back: a reason is required."""

    note = TextAreaField(
        _l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=NOTE_LIMIT)]
    )
    next = HiddenField()


class RejectRectificationForm(FlaskForm):
    reason = TextAreaField(
        _l("Why it is not fixed"),
        validators=[DataRequired(_l("Give a reason.")), Length(max=NOTE_LIMIT)],
    )
    working_days = IntegerField(
        _l("New deadline in working days"),
        default=5,
        validators=[DataRequired(_l("Give a new deadline.")), NumberRange(1, MAX_WORKING_DAYS)],
    )
    next = HiddenField()


class ExtensionDecisionForm(FlaskForm):
    """A coordinator's answer to an extension request: the button pressed (``decision``) says
    which."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)])
    # not rendered: the two submit buttons carry it
    decision = StringField(
        validators=[AnyOf(("approve", "refuse"), message=_l("Approve or refuse the request."))]
    )
    next = HiddenField()


class ReassignForm(FlaskForm):
    to = SelectField(
        _l("Give it to"), validators=[DataRequired(_l("Choose a person."))], validate_choice=False
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)])
    next = HiddenField()


class HandOverForm(FlaskForm):
    leaving = SelectField(
        _l("Person leaving the post"),
        validators=[DataRequired(_l("Choose a person."))],
        validate_choice=False,
    )
    successor = SelectField(
        _l("Successor"), validators=[DataRequired(_l("Choose a person."))], validate_choice=False
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)])


class DaysAwayForm(FlaskForm):
    """The range of days of a stand-in, both ends included (workflow/people/stand_ins.py): what
    the stand-in forms share."""

    starts_on = DateField(
        _l("First day away"),
        validators=[DataRequired(_l("Give the first day away (YYYY-MM-DD)."))],
    )
    ends_on = DateField(
        _l("Last day away"),
        validators=[DataRequired(_l("Give the last day away (YYYY-MM-DD)."))],
    )


class StandInForm(DaysAwayForm):
    """A stand-in named for a range of dates, for oneself or, by an administrator, for a person."""

    stand_in = SelectField(
        _l("Stand-in"),
        validators=[DataRequired(_l("Choose a person."))],
        coerce=int,
        validate_choice=False,
    )


class CampaignStandInForm(DaysAwayForm):
    """A coordinator names a stand-in for a person of the campaign (the people by their e-mail
    addresses, as the hand-over's form offers them)."""

    absent = SelectField(
        _l("Person away"), validators=[DataRequired(_l("Choose a person."))], validate_choice=False
    )
    stand_in = SelectField(
        _l("Stand-in"), validators=[DataRequired(_l("Choose a person."))], validate_choice=False
    )


class FoundHazardForm(OneTimeForm):
    """A hazard found, as an inspection's page registers it: where the inspection looked is where
    it was found (the register's form, below, says more)."""

    description = TextAreaField(
        _l("Hazard found"),
        validators=[DataRequired(_l("Describe the hazard.")), Length(max=TEXT_LIMIT)],
    )
    severity = SelectField(
        _l("Grade"),
        choices=options([("minor", _l("Minor")), ("major", _l("Major"))]),
        default="minor",
    )
    # offered when the inspection has no place of its own (a campaign-wide one)
    site = SelectField(_l("Key site"), validate_choice=False)
    location = StringField(_l("Where exactly"), validators=[Optional(), Length(max=LOCATION_LIMIT)])
    temporary_measures = TextAreaField(
        _l("Temporary measures"), validators=[Optional(), Length(max=TEXT_LIMIT)]
    )
    # stage "before": the hazard as it was found, straight from the phone's camera
    photos = MultipleFileField(_l("Photos of the hazard"))
    next = HiddenField()


class HazardForm(FoundHazardForm):
    """A hazard as the register's form takes it: anywhere in the campaign, anyone responsible, any
    deadline."""

    unit = SelectField(_l("Unit"), validate_choice=False)
    responsible = SelectField(
        _l("Responsible person (default: the site's or unit's)"), validate_choice=False
    )
    deadline = DateField(_l("Rectify by"), validators=[Optional()])
    working_days = IntegerField(
        _l("or within working days"), validators=[Optional(), NumberRange(1, MAX_WORKING_DAYS)]
    )


class WorkFilterForm(FlaskForm):
    """A work list's filter bar (workflow/worklists/filters.py names its fields): a GET form, so no
    CSRF token and no state change; the address it makes is the list's, to share or to save."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"))
    campaign = SelectField(_l("Campaign"), validate_choice=False)
    unit = SelectField(_l("Unit"), validate_choice=False)
    site = SelectField(_l("Key site"), validate_choice=False)
    kind = SelectField(_l("Kind"), validate_choice=False)
    severity = SelectField(_l("Grade"), validate_choice=False)
    state = SelectField(_l("State"), validate_choice=False)
    due = SelectField(_l("Due"), validate_choice=False)
    level = SelectField(_l("Escalation level"), validate_choice=False)
    responsible = SelectField(_l("Responsible"), validate_choice=False)
    sort = SelectField(_l("Sort by"), validate_choice=False)


class SaveViewForm(FlaskForm):
    """Keep the list's current filter under a name."""

    name = StringField(
        _l("Name of the view"), validators=[DataRequired(), Length(max=VIEW_NAME_LIMIT)]
    )
    list_name = HiddenField()
    campaign = HiddenField()
    query = HiddenField()


class IncidentForm(OneTimeForm):
    # kind and unit are checked by the engine against the campaign's definition and units
    kind = SelectField(
        _l("Kind of incident"),
        validators=[DataRequired(_l("Choose the kind of incident."))],
        validate_choice=False,
    )
    unit = SelectField(
        _l("Unit"), validators=[DataRequired(_l("Choose the unit."))], validate_choice=False
    )
    site = SelectField(_l("Key site (if at one)"), validate_choice=False)
    occurred_on = DateField(
        _l("Date it happened"), validators=[DataRequired(_l("Give the date it happened."))]
    )
    description = TextAreaField(
        _l("What happened"),
        validators=[DataRequired(_l("Say what happened.")), Length(max=TEXT_LIMIT)],
    )


class OutsideReportForm(OneTimeForm):
    # the body is checked by the engine against the incident kind's report_to
    body = SelectField(
        _l("Reported to"),
        validators=[DataRequired(_l("Choose whom it was reported to."))],
        validate_choice=False,
    )
    reported_at = DateTimeLocalField(
        _l("When it was reported"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    note = TextAreaField(_l("How and to whom"), validators=[Optional(), Length(max=TEXT_LIMIT)])


class ProcessPetitionForm(FlaskForm):
    outcome = TextAreaField(
        _l("How it was processed"),
        validators=[DataRequired(_l("Say how it was processed.")), Length(max=TEXT_LIMIT)],
    )


class CheckInForm(OneTimeForm):
    """A check-in at a key site (巡查打卡): the time and place are filled in by the phone's script
    (``checkin.js``) — the place only when the person ticks it and the browser is allowed."""

    note = TextAreaField(_l("Note (what you saw)"), validators=[Optional(), Length(max=NOTE_LIMIT)])
    photos = MultipleFileField(_l("Photos"))
    share_location = BooleanField(_l("Record where I am"))
    phone_time = HiddenField()
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()


def first_error(form: FlaskForm) -> str | None:
    """The first validation message of a form, to show above it (a queued send of it is answered
    422: ``common.back_with``)."""
    refused_as_invalid()
    for messages in form.errors.values():
        for message in messages:
            return str(message)
    return None
