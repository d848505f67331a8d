"""Patch: SQS message-move tasks (dead-letter redrive) in moto.

Moto gap closed: moto 5 has no ``StartMessageMoveTask`` / ``ListMessageMoveTasks`` /
``CancelMessageMoveTask`` (``NotImplementedError``-style 404s). AWS moves a dead-letter queue's
messages back to their source queue (or to ``DestinationArn``) as new messages - same body and
attributes, receive count reset - in the background, and lists the queue's recent tasks.

Here a task moves every visible message at once, inside ``StartMessageMoveTask``, and is then listed
as ``COMPLETED`` with the count it moved (so a second start never finds one running; the API's
one-at-a-time rule is covered by the service tests on the fakes). Without ``DestinationArn`` the
messages go to the queue whose RedrivePolicy targets this DLQ; like AWS, a source that is not a
dead-letter queue is refused. Sending goes through the backend's ``send_message``, so the SQS poller
delivers the moved messages to the source queue's consumer as usual.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

_applied = False
_lock = threading.Lock()
_tasks: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (account, region) -> tasks, oldest first


def _queue_by_arn(backend: Any, arn: str) -> Any:
    from moto.sqs.exceptions import QueueDoesNotExist

    for queue in backend.queues.values():
        if queue.queue_arn == arn:
            return queue
    raise QueueDoesNotExist()


def move_messages(backend: Any, source_arn: str, destination_arn: str | None) -> dict[str, Any]:
    """Move the visible messages of the DLQ ``source_arn``; the finished task as ListMessageMoveTasks shows it."""
    from moto.sqs.exceptions import InvalidParameterValue

    dlq = _queue_by_arn(backend, source_arn)
    if destination_arn:
        destination = _queue_by_arn(backend, destination_arn)
    else:
        sources = backend.list_dead_letter_source_queues(dlq.name)
        if len(sources) != 1:
            raise InvalidParameterValue(f"Source queue must be configured as a Dead Letter Queue "
                                        f"with one source queue: {source_arn}")
        destination = sources[0]
    started = int(time.time() * 1000)
    moving = [m for m in list(dlq._messages) if m.visible]
    for message in moving:
        backend.send_message(destination.name, message.body,
                             message_attributes=dict(message.message_attributes or {}),
                             group_id=message.group_id, deduplication_id=message.deduplication_id)
        dlq._messages.remove(message)
        dlq.pending_messages.discard(message)
    task = {"Status": "COMPLETED", "SourceArn": source_arn, "ApproximateNumberOfMessagesMoved": len(moving),
            "ApproximateNumberOfMessagesToMove": len(moving), "StartedTimestamp": started,
            "TaskHandle": uuid.uuid4().hex}
    if destination_arn:
        task["DestinationArn"] = destination_arn
    with _lock:
        _tasks.setdefault((backend.account_id, backend.region_name), []).append(task)
    return task


def listed(backend: Any, source_arn: str, limit: int = 10) -> list[dict[str, Any]]:
    with _lock:
        tasks = [t for t in _tasks.get((backend.account_id, backend.region_name), []) if t["SourceArn"] == source_arn]
    # AWS shows the handle only of a running task.
    return [{k: v for k, v in t.items() if k != "TaskHandle" or t["Status"] == "RUNNING"}
            for t in reversed(tasks)][:limit]


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        from moto.core.responses import ActionResult
        from moto.sqs.exceptions import InvalidParameterValue
        from moto.sqs.responses import SQSResponse

        def start_message_move_task(self: Any) -> Any:
            task = move_messages(self.sqs_backend, self._get_param("SourceArn"), self._get_param("DestinationArn"))
            return ActionResult({"TaskHandle": task["TaskHandle"]})

        def list_message_move_tasks(self: Any) -> Any:
            limit = int(self._get_param("MaxResults") or 1)
            return ActionResult({"Results": listed(self.sqs_backend, self._get_param("SourceArn"), limit)})

        def cancel_message_move_task(self: Any) -> Any:
            raise InvalidParameterValue("The task has already completed.")  # every task here completes at once

        SQSResponse.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]
        SQSResponse.list_message_move_tasks = list_message_move_tasks  # type: ignore[attr-defined]
        SQSResponse.cancel_message_move_task = cancel_message_move_task  # type: ignore[attr-defined]
        _applied = True
