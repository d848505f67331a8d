"""One contract for the continuations port: LambdaContinuations (an asynchronous Lambda invoke) and its twin
RecordedContinuations, observed the same way: which function is invoked again, and the event it receives (JSON).

The adapter's side runs on a real boto3 Lambda client answered by botocore's Stubber, not moto: moto invokes a
function only in Docker (its Docker-less backend records no invocation), so there is nothing to read back. The
Stubber still checks the request against Lambda's service model (botocore validates parameters before the call)
and the test reads the request itself: the function, InvocationType ``Event`` (asynchronous) and the payload."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.adapters.continuations import LambdaContinuations
from tests.contract.conftest import REGION
from tests.fakes import RecordedContinuations

ARN = f"arn:aws:lambda:{REGION}:123456789012:function:opslayer-test-pms-sync"
ACCEPTED = {"StatusCode": 202}  # what Lambda answers an asynchronous invoke it queued


@dataclass
class Backend:
    continuations: LambdaContinuations | RecordedContinuations
    sent: Callable[[], list[tuple[str, dict[str, Any]]]]  # (function, event) of every continuation, in order


@pytest.fixture
def stubbed_lambda() -> Iterator[tuple[Any, Any, list[dict[str, Any]]]]:
    """A boto3 Lambda client whose calls the Stubber answers, and the parameters of every Invoke it received."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("lambda", region_name=REGION, aws_access_key_id="contract",
                          aws_secret_access_key="contract")
    requests: list[dict[str, Any]] = []
    client.meta.events.register("provide-client-params.lambda.Invoke",
                                lambda params, **_: requests.append(dict(params)))
    with Stubber(client) as stubber:
        yield client, stubber, requests


@pytest.fixture(params=["lambda", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        twin = RecordedContinuations()
        return Backend(twin, lambda: [(c.function_arn, c.event) for c in twin.pending])
    client, stubber, requests = request.getfixturevalue("stubbed_lambda")
    for _ in range(3):
        stubber.add_response("invoke", ACCEPTED)

    def sent() -> list[tuple[str, dict[str, Any]]]:
        assert all(r["InvocationType"] == "Event" for r in requests)  # asynchronous: never waits for the run
        return [(r["FunctionName"], json.loads(r["Payload"])) for r in requests]

    return Backend(LambdaContinuations(client), sent)


def test_a_continuation_invokes_the_function_again_with_its_event(backend: Backend) -> None:
    event = {"action": "reconcile", "cursor": {"kind": "unit", "position": 7000, "continuation": 1}}
    backend.continuations.continue_later(ARN, event)
    assert backend.sent() == [(ARN, event)]


def test_each_continuation_is_sent_once_in_order(backend: Backend) -> None:
    backend.continuations.continue_later(ARN, {"n": 1})
    backend.continuations.continue_later(ARN, {"n": 2})
    assert backend.sent() == [(ARN, {"n": 1}), (ARN, {"n": 2})]


def test_the_event_is_what_json_carries(backend: Backend) -> None:
    backend.continuations.continue_later(ARN, {"tuple": (1, 2), "text": "Sí", "none": None})
    assert backend.sent() == [(ARN, {"tuple": [1, 2], "text": "Sí", "none": None})]


def test_an_event_json_cannot_carry_is_refused_before_anything_is_sent(backend: Backend) -> None:
    with pytest.raises(TypeError):
        backend.continuations.continue_later(ARN, {"cursor": object()})
    assert backend.sent() == []


def test_a_refused_invoke_fails_the_invocation(stubbed_lambda: tuple[Any, Any, list[dict[str, Any]]]) -> None:
    """The adapter alone: Lambda's refusal (throttled, say) raises, so the running invocation fails and is retried
    from its own cursor rather than ending a reconciliation silently."""
    from botocore.exceptions import ClientError

    client, stubber, _ = stubbed_lambda
    stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    with pytest.raises(ClientError):
        LambdaContinuations(client).continue_later(ARN, {"action": "reconcile"})
    stubber.assert_no_pending_responses()
