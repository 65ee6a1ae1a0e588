"""The pages' forms (Flask-WTF): each carries a CSRF token; labels and messages are in the catalogues.

The forms check only shape (required, length, a whole number); whether a
move is allowed is the engine's to say.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label) pairs
    SelectChoice = None

NOTE = 2000


def options(pairs: Iterable[tuple[str, Any]]) -> list[Any]:
    """Choices of a select field, in the form this WTForms version wants (3.3 deprecates pairs)."""
    return [SelectChoice(value, label) if SelectChoice else (value, label) for value, label in pairs]


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button with nothing to fill in (sign out, advance, verify): the CSRF token is the whole form."""

    next = HiddenField()


class LanguageForm(FlaskForm):
    language = HiddenField()
    next = HiddenField()


class CheckOffForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE)])
    evidence = MultipleFileField(_l("Evidence (photos or PDF, at most 5 files of 5 MB)"))
    next = HiddenField()


class BulkCheckOffForm(FlaskForm):
    note = TextAreaField(_l("Note for all selected tasks"), validators=[Optional(), Length(max=NOTE)])


class ReportFixedForm(FlaskForm):
    note = TextAreaField(_l("What was done"), validators=[DataRequired(_l("Say what was done.")),
                                                          Length(max=NOTE)])
    evidence = MultipleFileField(_l("Evidence (photos or PDF, at most 5 files of 5 MB)"))
    next = HiddenField()


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE)])
    next = HiddenField()


class ReasonForm(FlaskForm):
    """Sending a task back: a reason is required."""

    note = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=NOTE)])
    next = HiddenField()


class RejectRectificationForm(FlaskForm):
    reason = TextAreaField(_l("Why it is not fixed"), validators=[DataRequired(_l("Give a reason.")),
                                                                 Length(max=NOTE)])
    working_days = IntegerField(_l("New deadline in working days"), default=5,
                                validators=[DataRequired(_l("Give a new deadline.")), NumberRange(1, 366)])
    next = HiddenField()


class ReassignForm(FlaskForm):
    to = SelectField(_l("Give it to"), validators=[DataRequired(_l("Choose a person."))], validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE)])
    next = HiddenField()


class HandOverForm(FlaskForm):
    leaving = SelectField(_l("Person leaving the post"), validators=[DataRequired(_l("Choose a person."))],
                          validate_choice=False)
    successor = SelectField(_l("Successor"), validators=[DataRequired(_l("Choose a person."))],
                            validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE)])


class HazardForm(FlaskForm):
    description = TextAreaField(_l("Hazard found"), validators=[DataRequired(_l("Describe the hazard.")),
                                                                Length(max=5000)])
    severity = SelectField(_l("Grade"), choices=options([("minor", _l("Minor")), ("major", _l("Major"))]),
                           default="minor")
    unit = SelectField(_l("Unit"), validate_choice=False)
    site = SelectField(_l("Key site"), validate_choice=False)
    location = StringField(_l("Where exactly"), validators=[Optional(), Length(max=300)])
    responsible = SelectField(_l("Responsible person (default: the site's or unit's)"), validate_choice=False)
    deadline = DateField(_l("Rectify by"), validators=[Optional()])
    working_days = IntegerField(_l("or within working days"), validators=[Optional(), NumberRange(1, 366)])
    temporary_measures = TextAreaField(_l("Temporary measures"), validators=[Optional(), Length(max=5000)])


class RegisterFilterForm(FlaskForm):
    """The register's filters: a GET form, so no CSRF token and no state change."""

    class Meta:
        csrf = False

    unit = SelectField(_l("Unit"), validate_choice=False)
    site = SelectField(_l("Key site"), validate_choice=False)
    severity = SelectField(_l("Grade"), validate_choice=False)
    state = SelectField(_l("State"), validate_choice=False)
    overdue = BooleanField(_l("Overdue only"))


class IncidentForm(FlaskForm):
    # kind and unit are checked by the engine against the campaign's definition and units
    kind = SelectField(_l("Kind of incident"), validators=[DataRequired(_l("Choose the kind of incident."))],
                       validate_choice=False)
    unit = SelectField(_l("Unit"), validators=[DataRequired(_l("Choose the unit."))], validate_choice=False)
    occurred_on = DateField(_l("Date it happened"), validators=[DataRequired(_l("Give the date it happened."))])
    description = TextAreaField(_l("What happened"), validators=[DataRequired(_l("Say what happened.")),
                                                                 Length(max=5000)])


class ProcessPetitionForm(FlaskForm):
    outcome = TextAreaField(_l("How it was processed"), validators=[DataRequired(_l("Say how it was processed.")),
                                                                     Length(max=5000)])


def first_error(form: FlaskForm) -> str | None:
    """The first validation message of a form, to show above it."""
    for messages in form.errors.values():
        for message in messages:
            return str(message)
    return None
