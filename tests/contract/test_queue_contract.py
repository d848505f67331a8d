"""One contract for the queue port's dead-letter side (SQS message-move tasks): the real adapter on moto (with
the local cloud's message-move patch, infra/localcloud/patches/sqs_message_move.py) and FakeQueues."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.adapters.aws import error_code
from shared.adapters.messaging import QueueSender
from tests.contract.conftest import REGION
from tests.fakes import FakeQueues
from tests.fakes.messaging import queue_url

_names = itertools.count(1)


@dataclass
class Backend:
    queues: QueueSender | FakeQueues
    pair: Callable[[], tuple[str, str]]  # a new source queue and its DLQ: (source URL, DLQ URL)
    dead_letter: Callable[[str, str, str], None]  # (source URL, DLQ URL, body): a message that failed there
    settle: Callable[[], None]  # running moves finish (SQS moves in the background)
    received: Callable[[str], list[tuple[str, dict[str, str]]]]  # (body, string attributes) on a queue


@pytest.fixture(params=["sqs", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        fake = FakeQueues()

        def fake_pair() -> tuple[str, str]:
            n = next(_names)
            return queue_url(f"contract-{n}"), queue_url(f"contract-{n}-dlq")

        return Backend(fake, fake_pair,
                       lambda source, dlq, body: fake.dead_letter(source, dlq, body, {"kind": "test"}),
                       fake.finish_moves,
                       lambda url: [(m.body, m.attributes) for m in fake.on(url)])
    request.getfixturevalue("aws")
    import boto3

    from infra.localcloud.patches import sqs_message_move

    sqs_message_move.apply()
    client = boto3.client("sqs", region_name=REGION)

    def real_pair() -> tuple[str, str]:
        n = next(_names)
        dlq = client.create_queue(QueueName=f"contract-{n}-dlq")["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        source = client.create_queue(QueueName=f"contract-{n}", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})})["QueueUrl"]
        return source, dlq

    def real_dead_letter(source: str, dlq: str, body: str) -> None:
        client.send_message(QueueUrl=dlq, MessageBody=body,
                            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})

    def real_received(url: str) -> list[tuple[str, dict[str, str]]]:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        return [(m["Body"], {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()})
                for m in got.get("Messages", [])]

    return Backend(QueueSender(client=client), real_pair, real_dead_letter, lambda: None, real_received)


def test_info_gives_the_arn_and_the_depth(backend: Backend) -> None:
    source, dlq = backend.pair()
    backend.dead_letter(source, dlq, "a")
    backend.dead_letter(source, dlq, "b")

    info = backend.queues.info(dlq)

    assert info.depth == 2
    assert info.arn.startswith(f"arn:aws:sqs:{REGION}:") and info.arn.endswith(dlq.rsplit("/", 1)[-1])


def test_a_move_puts_the_dead_letters_back_on_their_source_queue(backend: Backend) -> None:
    source, dlq = backend.pair()
    for body in ("a", "b"):
        backend.dead_letter(source, dlq, body)
    arn = backend.queues.info(dlq).arn

    handle = backend.queues.start_move(arn)
    backend.settle()

    assert isinstance(handle, str) and handle
    assert sorted(backend.received(source)) == [("a", {"kind": "test"}), ("b", {"kind": "test"})]
    assert backend.queues.info(dlq).depth == 0
    [task] = backend.queues.move_tasks(arn)
    assert task.status == "COMPLETED" and task.moved == 2 and not task.running
    assert task.source_arn == arn and task.handle is None  # a handle only while it runs


def test_tasks_are_listed_per_queue_newest_first(backend: Backend) -> None:
    source, dlq = backend.pair()
    _, other_dlq = backend.pair()
    arn, other = backend.queues.info(dlq).arn, backend.queues.info(other_dlq).arn
    for n in (1, 2):
        backend.dead_letter(source, dlq, "x" * n)
        backend.queues.start_move(arn)
        backend.settle()

    assert [t.moved for t in backend.queues.move_tasks(arn)] == [1, 1]
    assert [t.started_at for t in backend.queues.move_tasks(arn)] == sorted(
        (t.started_at for t in backend.queues.move_tasks(arn)), reverse=True)
    assert backend.queues.move_tasks(other) == []


def test_a_queue_that_is_no_dead_letter_queue_is_refused(backend: Backend) -> None:
    source, dlq = backend.pair()
    backend.dead_letter(source, dlq, "a")
    not_a_dlq = backend.queues.info(source).arn

    with pytest.raises(Exception) as refused:
        backend.queues.start_move(not_a_dlq)

    assert error_code(refused.value)
