"""One contract for the event publisher: EventPublisher on moto's EventBridge (a rule on the bus sends every
event to an SQS queue, read back) and its twin RecordingEvents (tests/fakes), which keeps the entries."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.adapters.messaging import SOURCE, EventPublisher
from tests.contract.conftest import REGION
from tests.fakes import RecordingEvents

_buses = itertools.count(1)


@dataclass(frozen=True)
class Delivered:
    """An event as a consumer of the bus sees it."""

    bus: str
    source: str
    detail_type: str
    detail: dict[str, Any]


@dataclass
class Backend:
    make: Callable[[str], EventPublisher | RecordingEvents]  # a publisher to a new bus of this name
    delivered: Callable[[str], list[Delivered]]  # everything that reached a bus, in order


@pytest.fixture(params=["eventbridge", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        twins: dict[str, RecordingEvents] = {}

        def make_twin(bus: str) -> RecordingEvents:
            twins[bus] = RecordingEvents(bus)
            return twins[bus]

        def twin_delivered(bus: str) -> list[Delivered]:
            return [Delivered(e["EventBusName"], e["Source"], e["DetailType"], json.loads(e["Detail"]))
                    for e in (twins[bus].entries if bus in twins else [])]

        return Backend(make_twin, twin_delivered)
    request.getfixturevalue("aws")
    import boto3

    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queues: dict[str, str] = {}  # bus -> URL of the queue its catch-all rule delivers to

    def make_real(bus: str) -> EventPublisher:
        events.create_event_bus(Name=bus)
        url = sqs.create_queue(QueueName=f"{bus}-all")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"account": ["123456789012"]}))
        events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        queues[bus] = url
        return EventPublisher(bus, client=events)

    def real_delivered(bus: str) -> list[Delivered]:
        got: list[Delivered] = []
        while messages := sqs.receive_message(QueueUrl=queues[bus], MaxNumberOfMessages=10).get("Messages"):
            for m in messages:
                event = json.loads(m["Body"])
                got.append(Delivered(bus, event["source"], event["detail-type"], event["detail"]))
                sqs.delete_message(QueueUrl=queues[bus], ReceiptHandle=m["ReceiptHandle"])
        return got

    return Backend(make_real, real_delivered)


def new_bus() -> str:
    return f"opslayer-contract-{next(_buses)}"


def test_publish_puts_the_event_on_the_publishers_bus_with_the_opslayer_source(backend: Backend) -> None:
    bus, other = new_bus(), new_bus()
    publisher = backend.make(bus)
    backend.make(other)

    publisher.publish("WorkOrderReceived", {"work_order_id": "wo-1", "priority": "urgent", "tags": ["leak"]})
    publisher.publish("WorkOrderDispatched", {"work_order_id": "wo-1", "vendor": {"id": "v-1", "rank": 1}})

    assert backend.delivered(bus) == [
        Delivered(bus, SOURCE, "WorkOrderReceived", {"work_order_id": "wo-1", "priority": "urgent", "tags": ["leak"]}),
        Delivered(bus, SOURCE, "WorkOrderDispatched", {"work_order_id": "wo-1", "vendor": {"id": "v-1", "rank": 1}}),
    ]
    assert backend.delivered(other) == []
    assert publisher.bus == bus


def test_values_json_cannot_hold_arrive_as_their_text(backend: Backend) -> None:
    bus = new_bus()
    at = datetime(2026, 6, 10, 14, 30, tzinfo=UTC)

    backend.make(bus).publish("InvoiceChecked", {"amount": Decimal("120.50"), "at": at, "empty": {}, "none": None})

    [event] = backend.delivered(bus)
    assert event.detail == {"amount": "120.50", "at": str(at), "empty": {}, "none": None}


def test_a_detail_that_cannot_be_serialised_fails_before_anything_is_sent(backend: Backend) -> None:
    bus = new_bus()
    publisher = backend.make(bus)
    looped: dict[str, Any] = {"work_order_id": "wo-1"}
    looped["self"] = looped

    with pytest.raises(TypeError):
        publisher.publish("WorkOrderReceived", {("tuple", "key"): 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="Circular reference"):
        publisher.publish("WorkOrderReceived", looped)

    assert backend.delivered(bus) == []


def test_an_event_without_a_detail_type_is_refused(backend: Backend) -> None:
    bus = new_bus()

    with pytest.raises(RuntimeError, match="EventBridge rejected"):
        backend.make(bus).publish("", {"work_order_id": "wo-1"})

    assert backend.delivered(bus) == []
