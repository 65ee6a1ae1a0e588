"""The state machines answer which moves a state allows, for every kind of row that has states; the limits are
defined once in the engine and the OpenAPI document takes its bounds from there."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from webapp.api.shapes import BODIES
from workflow import limits
from workflow.errors import TransitionRefused
from workflow.machines import (
    MACHINES,
    PETITION_MACHINE,
    RECTIFICATION_MACHINE,
    TASK_MACHINE,
    allowed_events,
    campaign_machine,
    can,
    fire,
    states_allowing,
)


@pytest.mark.parametrize(
    "kind, state, event, allowed",
    [
        ("task", "open", "complete", True),
        ("task", "open", "reassign", True),
        ("task", "done", "complete", False),
        ("task", "done", "verify", True),
        ("task", "done", "reject", True),
        ("task", "done", "reassign", False),
        ("task", "verified", "reject", False),
        ("rectification", "open", "submit", True),
        ("rectification", "open", "request_extension", True),
        ("rectification", "submitted", "verify", True),
        ("rectification", "submitted", "request_extension", False),
        ("rectification", "submitted", "reassign", True),
        ("rectification", "closed", "reassign", False),
        ("rectification", "closed", "reopen", True),
        ("extension", "requested", "approve", True),
        ("extension", "requested", "refuse", True),
        ("extension", "approved", "refuse", False),
        ("petition", "open", "process", True),
        ("petition", "processed", "process", False),
        ("petition", "open", "no such move", False),
        ("petition", "no such state", "process", False),
    ],
)
def test_can_answers_for_every_kind(kind, state, event, allowed):
    assert can(kind, state, event) is allowed
    assert can(MACHINES[kind], state, event) is allowed, "a machine answers as its kind does"
    assert (event in allowed_events(kind, state)) is allowed


def test_a_campaign_machine_answers_for_its_definition_s_phases():
    machine = campaign_machine(("mobilization", "implementation"))
    assert (can(machine, "draft", "start"), can(machine, "draft", "advance")) == (True, False)
    assert allowed_events(machine, "implementation") == ["advance"]
    assert allowed_events(machine, "closed") == []


def test_an_unknown_kind_is_a_mistake_said_loudly():
    with pytest.raises(ValueError, match="no state machine for 'petitions'"):
        can("petitions", "open", "process")


def test_a_move_that_keeps_the_state_goes_through_the_machine_too():
    task = SimpleNamespace(state="open")
    assert fire(TASK_MACHINE, "reassign", task, "task 7") == ("open", "open")
    task.state = "done"
    with pytest.raises(TransitionRefused, match="^cannot reassign task 7: it is done$"):
        fire(TASK_MACHINE, "reassign", task, "task 7")
    assert states_allowing(RECTIFICATION_MACHINE, "reassign") == ("open", "submitted")


def test_the_petition_machine_processes_once_and_a_use_case_may_word_the_refusal():
    petition = SimpleNamespace(state=PETITION_MACHINE.initial)
    assert fire(PETITION_MACHINE, "process", petition, "petition 3") == ("open", "processed")
    with pytest.raises(TransitionRefused, match="^petition 3 is already processed$"):
        fire(
            PETITION_MACHINE,
            "process",
            petition,
            "petition 3",
            refused="petition 3 is already processed",
        )
    assert petition.state == "processed"


def test_the_api_bodies_take_their_bounds_from_the_engine_s_limits():
    assert BODIES["Note"]["properties"]["note"]["maxLength"] == limits.NOTE_LIMIT
    assert BODIES["Submission"]["properties"]["note"]["maxLength"] == limits.NOTE_LIMIT
    assert BODIES["NewDeadline"]["properties"]["reason"]["maxLength"] == limits.NOTE_LIMIT
    hazard = BODIES["HazardReport"]["properties"]
    assert (hazard["description"]["maxLength"], hazard["location"]["maxLength"]) == (
        limits.TEXT_LIMIT,
        limits.LOCATION_LIMIT,
    )
    assert hazard["deadline_working_days"]["maximum"] == limits.MAX_WORKING_DAYS
