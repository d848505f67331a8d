"""The request models' cross-field rules, as the OpenAPI document states them (`oneOf`/`anyOf` beside the
fields): a body is valid for the JSON Schema exactly when the model accepts it, so a client (and schemathesis)
can build a body that passes."""

from __future__ import annotations

import itertools

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from shared.schemas import STEER_NEEDS, PersonRef, Propose, Schedule, Steer

VALUES = {"reason": "Vendor is away", "text": "Called the tenant", "extend_hours": 24, "vendor_id": "ven-1",
          "technician_id": "tech-1", "window": 0, "start": "2026-12-04T09:00:00-05:00",
          "end": "2026-12-04T11:00:00-05:00", "date": "2026-12-04", "start_time": "09:00", "end_time": "11:00",
          "phone": "+15551234567", "email": "ana@example.com"}


def _agree(model: type[BaseModel], body: dict) -> None:
    by_schema = Draft202012Validator(model.model_json_schema(mode="validation")).is_valid(body)
    try:
        model.model_validate(body)
        by_model = True
    except ValidationError:
        by_model = False
    assert by_schema == by_model, (model.__name__, body, by_schema, by_model)


def _subsets(names: tuple[str, ...]):
    return itertools.chain.from_iterable(itertools.combinations(names, n) for n in range(len(names) + 1))


@pytest.mark.parametrize("action", sorted(STEER_NEEDS))
def test_steer_states_what_each_action_needs(action: str) -> None:
    for fields in _subsets(("reason", "text", "extend_hours", "vendor_id", "technician_id")):
        _agree(Steer, {"action": action, **{f: VALUES[f] for f in fields}})
    _agree(Steer, {"action": action, "reason": None, "text": None})


@pytest.mark.parametrize("model", [Schedule, Propose])
def test_a_visit_time_is_given_one_way(model: type[BaseModel]) -> None:
    for fields in _subsets(("window", "start", "end", "date", "start_time", "end_time")):
        _agree(model, {f: VALUES[f] for f in fields})
    _agree(model, {"window": None, "start": VALUES["start"], "end": VALUES["end"]})


def test_a_person_is_a_phone_or_an_email() -> None:
    for fields in _subsets(("phone", "email")):
        _agree(PersonRef, {f: VALUES[f] for f in fields})
    _agree(PersonRef, {"phone": VALUES["phone"], "email": None})
    _agree(PersonRef, {"phone": None, "email": None})
