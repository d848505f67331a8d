"""Patch + pump: SQS -> Lambda event-source mappings polled like AWS does.

Moto gap closed: moto invokes a mapped function synchronously inside ``SendMessage``, one record
per invoke, ignores ``batchItemFailures`` (a failed record is simply made visible again at once or
deleted), and never delivers a delayed message or a message whose visibility timeout expired.

The patch makes ``Queue.add_message`` only enqueue (and wake the poller); the pump then does what
the Lambda service does: receive up to ``BatchSize`` visible messages, invoke with an SQS event
shaped like AWS's, delete the records that succeeded, and leave failed ones in flight so they come
back after the visibility timeout and move to the DLQ after ``maxReceiveCount`` (moto's
``receive_message`` applies the RedrivePolicy). ESMs are read from moto's Lambda backend on every
tick, so mappings created later through the API are polled too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from infra.localcloud import usage

if TYPE_CHECKING:
    from infra.localcloud.cloud import LocalCloud

log = logging.getLogger("infra.localcloud.sqs")

_applied = False
_lock = threading.Lock()

IDLE_TICK_SECONDS = 1.0
"""Longest sleep with nothing due; any new message wakes the poller at once."""
MIN_TICK_SECONDS = 0.01


class Activity:
    """A generation counter + condition: 'something changed in a queue, look again'."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)


activity = Activity()


def apply() -> None:
    """Make ``Queue.add_message`` enqueue only, and serialise deletes with appends (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.sqs import models as sqs_models

        def add_message(self: Any, message: Any) -> None:
            if self.fifo_queue and (
                self.attributes.get("ContentBasedDeduplication") == "true" or message.deduplication_id
            ):
                window_ms = sqs_models.DEDUPLICATION_TIME_IN_SECONDS * 1000
                for queued in list(self._messages):
                    if (
                        queued.deduplication_id == message.deduplication_id
                        and message.sent_timestamp - queued.sent_timestamp < window_ms
                    ):
                        return  # a duplicate inside the deduplication window is dropped, as on AWS
            with self._messages_lock:
                self._messages.append(message)
                self._messages_lock.notify_all()
            activity.notify()

        original_delete = sqs_models.Queue.delete_message

        def delete_message(self: Any, receipt_handle: str) -> None:
            # moto rebuilds the message list on delete; without the lock a concurrent append is lost.
            with self._messages_lock:
                original_delete(self, receipt_handle)

        sqs_models.Queue.add_message = add_message  # type: ignore[method-assign]
        sqs_models.Queue.delete_message = delete_message  # type: ignore[method-assign]
        _applied = True


def _message_attributes(message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, attr in (message.message_attributes or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": attr.get("DataType")}
        if attr.get("StringValue") is not None:
            entry["stringValue"] = attr["StringValue"]
        if attr.get("BinaryValue") is not None:
            value = attr["BinaryValue"]
            entry["binaryValue"] = value.decode() if isinstance(value, bytes) else value
        out[name] = entry
    return out


def sqs_record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda receives from an SQS mapping."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if queue_arn.endswith(".fifo"):
        attributes["SequenceNumber"] = str(message.sequence_number or "")
        attributes["MessageGroupId"] = str(message.group_id or "")
        attributes["MessageDeduplicationId"] = str(message.deduplication_id or "")
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": _message_attributes(message),
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    return record


def failed_message_ids(payload: bytes | str | None, batch_ids: set[str]) -> set[str] | None:
    """Ids a ``ReportBatchItemFailures`` response names; ``None`` = treat the whole batch as failed."""
    try:
        result = json.loads(payload or "null")
    except ValueError:
        return None
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set()
    if not isinstance(result, dict) or not isinstance(result["batchItemFailures"], list):
        return None
    failed: set[str] = set()
    for item in result["batchItemFailures"]:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in batch_ids:
            return None  # AWS: an invalid identifier fails the whole batch
        failed.add(ident)
    return failed


class SqsPoller:
    """The Lambda service's SQS poller for every SQS mapping in one account/region."""

    name = "sqs"

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers = ThreadPoolExecutor(4, thread_name_prefix="localcloud-sqs-batch")
        self._in_flight: set[str] = set()  # ESM uuids with a batch being processed
        self._lock = threading.Lock()

    # -- moto lookups ---------------------------------------------------------------------
    def _backends(self) -> tuple[Any, Any]:
        from moto.awslambda.utils import get_backend
        from moto.sqs.models import sqs_backends

        return get_backend(self.account_id, self.region), sqs_backends[self.account_id][self.region]

    def _mappings(self) -> list[tuple[Any, Any]]:
        """(esm, queue) for every SQS mapping."""
        lambda_backend, sqs_backend = self._backends()
        queues = {q.queue_arn: q for q in list(sqs_backend.queues.values())}
        pairs = []
        for esm in list(lambda_backend._event_source_mappings.values()):
            queue = queues.get(esm.event_source_arn)
            if queue is not None:
                pairs.append((esm, queue))
        return pairs

    # -- pump protocol --------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="localcloud-sqs-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        activity.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._workers.shutdown(wait=True)

    def busy(self, owners: set[str] | None = None) -> bool:
        """A batch is being processed, or a message is ready to be, on a queue mapped to one of ``owners``
        (function ARNs; all mappings when ``None``). A message delayed (DelaySeconds) or waiting out its
        visibility timeout after a failed attempt is not moving now: it does not keep the cloud busy."""
        mappings = [(esm, q) for esm, q in self._mappings() if owners is None or esm.function_arn in owners]
        with self._lock:
            if any(esm.uuid in self._in_flight for esm, _ in mappings):
                return True
        return any(m.visible and not m.delayed for _, queue in mappings for m in list(queue._messages))

    # -- loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            seen = activity.generation
            try:
                self._tick()
                timeout = self._next_due()
            except Exception:  # keep polling; a broken tick must not end delivery
                log.exception("SQS poller tick failed")
                timeout = IDLE_TICK_SECONDS
            activity.wait(seen, timeout)

    def _tick(self) -> None:
        _, sqs_backend = self._backends()
        for esm, queue in self._mappings():
            if not esm.enabled:
                continue
            with self._lock:
                if esm.uuid in self._in_flight:
                    continue
            messages = sqs_backend.receive_message(
                queue.name, int(esm.batch_size or 10), 0, int(queue.visibility_timeout or 30)
            )
            if messages:
                with self._lock:
                    self._in_flight.add(esm.uuid)
                self._workers.submit(self._process, esm, queue, messages)

    def _next_due(self) -> float:
        """Seconds until the next delayed or in-flight message becomes visible (capped)."""
        now_ms = time.time() * 1000
        due = [
            max(m.visible_at, m.delayed_until)
            for esm, queue in self._mappings()
            if esm.enabled
            for m in list(queue._messages)
        ]
        future = [d for d in due if d > now_ms]
        if not future:
            return IDLE_TICK_SECONDS
        return min(IDLE_TICK_SECONDS, max(MIN_TICK_SECONDS, (min(future) - now_ms) / 1000 + 0.005))

    def _process(self, esm: Any, queue: Any, messages: list[Any]) -> None:
        lambda_backend, sqs_backend = self._backends()
        # What Lambda's poller is billed for: one receive per batch, one delete per batch (batched), and
        # the send that put each message on the queue (made by moto's EventBridge or a client).
        usage.record_request("before-send.sqs.ReceiveMessage", None)
        usage.record_request("before-send.sqs.DeleteMessageBatch", None)
        for _ in messages:
            usage.record_request("before-send.sqs.SendMessage", None, delivered=True)
        try:
            event = {"Records": [sqs_record(m, queue.queue_arn, self.region) for m in messages]}
            response_headers: dict[str, Any] = {}
            payload = lambda_backend.invoke(esm.function_arn, None, json.dumps(event), {}, response_headers)
            if "x-amz-function-error" in response_headers:
                failed: set[str] | None = None  # the whole batch returns after the visibility timeout
            elif "ReportBatchItemFailures" in (esm.function_response_types or []):
                failed = failed_message_ids(payload, {m.id for m in messages})
            else:
                failed = set()
            if failed is None:
                return
            for message in messages:
                if message.id not in failed:
                    sqs_backend.delete_message(queue.name, message.receipt_handle)
        except Exception:  # messages stay in flight and are retried, like on AWS
            log.exception("SQS batch for %s failed", esm.function_arn)
        finally:
            with self._lock:
                self._in_flight.discard(esm.uuid)
            activity.notify()


def make_pump(cloud: LocalCloud) -> SqsPoller:
    return SqsPoller(cloud.account_id, cloud.region)
