"""A message queued to come back later (SQS DelaySeconds, at most 15 minutes): deferred SMS re-check
their quiet hours on each return instead of being dropped."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import client as aws_client

MAX_DELAY_SECONDS = 900


def send_delayed(queue_url: str, body: str, delay_seconds: int, client: Any = None) -> str:
    sqs = client or aws_client("sqs")
    delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
    return sqs.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay)["MessageId"]
