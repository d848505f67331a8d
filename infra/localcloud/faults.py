"""Fault injection for the local cloud: arm a fault, let the system meet it, check nothing was lost.

Three kinds, each armed for a number of firings (``times``) and consumed as it fires:

* :meth:`FaultInjector.aws` -- an AWS API call answers an error (``ProvisionedThroughputExceededException``
  on DynamoDB, ``Throttling`` on SNS, ``MessageRejected`` on SES...). Injected at the HTTP layer, where
  moto answers in-process (moto's ``BotocoreStubber``), so the SDK's own retry policy sees the error
  exactly as it would see AWS's: a fault armed for fewer firings than the client's retries is absorbed.
* :meth:`FaultInjector.lambda_fn` -- a function raises before its handler runs, or "times out": the
  handler runs (its side effects happen) and the invoke then fails with ``Sandbox.Timedout``, as Lambda
  reports a function killed at its ``Timeout`` (the local cloud cannot kill a thread: this is the worst
  case of a timeout, the work done and the answer lost).
* :meth:`FaultInjector.redeliver` -- an SQS message is delivered again (at-least-once delivery), at once
  or after newer ones (out of order). Every message added to a queue is kept in :meth:`sent_to` (the
  last ``KEEP`` per queue), so a test picks its own and delivers it again.

Every firing is recorded in :attr:`FaultInjector.fired`. ``clear()`` disarms everything (a test's
fixture calls it after the test). In-process clouds only: a server-mode cloud (``make local``) serves
AWS calls from a moto server, whose requests do not pass the stubber (Lambda faults still fire).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

KEEP = 500
"""Message bodies remembered per queue (for redelivery)."""

Match = Callable[[dict[str, Any]], bool]
_matching = threading.local()  # .active: this thread is deciding whether a fault fires


@dataclass
class Fault:
    """One armed fault: what it matches, how it fails, how many firings are left."""

    kind: str  # "aws" | "lambda"
    target: str  # "dynamodb.TransactWriteItems" | a function's name
    times: int
    error: str
    status: int = 400
    message: str = "Injected fault"
    timeout: bool = False
    when: Match | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def take(self, params: dict[str, Any]) -> bool:
        """True (and one firing used) when this fault fires on a call with these parameters."""
        if self.fired >= self.times:
            return False
        if self.when is not None:
            try:
                if not self.when(params):
                    return False
            except Exception:  # a predicate that cannot read this call does not match it
                return False
        self.fired += 1
        return True

    @property
    def spent(self) -> bool:
        return self.fired >= self.times


class InjectedFault(Exception):
    """Raised in a function's place by a Lambda fault (its name is set to the error armed)."""


class FaultInjector:
    """The process's armed faults (moto's backends are process-wide, so is this)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a `when` predicate may call AWS, which asks again
        self._faults: list[Fault] = []
        self._queues: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=KEEP))
        self.fired: list[str] = []

    # ------------------------------------------------------------------ arming
    def aws(self, service: str, operation: str, error: str, *, times: int = 1, status: int = 400,
            message: str = "Injected fault", when: Match | None = None, **extra: Any) -> Fault:
        """The next ``times`` calls of ``service.operation`` (botocore names: ``dynamodb``, ``TransactWriteItems``)
        answer ``error`` with HTTP ``status``. ``when`` sees the request parameters (JSON body or form);
        ``extra`` members are added to a JSON error body (``CancellationReasons``...)."""
        return self._arm(Fault("aws", f"{service.lower()}.{operation}", times, error, status, message,
                               when=when, extra=extra))

    def lambda_fn(self, function: str, *, times: int = 1, error: str = "RuntimeError", timeout: bool = False,
                  when: Match | None = None) -> Fault:
        """The next ``times`` invokes of the function (its name: ``cloud.physical(logical_id)``) whose event ``when``
        accepts fail: with ``error`` raised before the handler runs, or, ``timeout=True``, with
        ``Sandbox.Timedout`` after it ran."""
        return self._arm(Fault("lambda", function, times, "Sandbox.Timedout" if timeout else error,
                               message="Task timed out" if timeout else "Injected fault", timeout=timeout,
                               when=when))

    def _arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault and forget the firings (the remembered queue messages stay)."""
        with self._lock:
            self._faults.clear()
            self.fired.clear()

    # ------------------------------------------------------------------ queues
    def sent_to(self, queue_name: str) -> list[str]:
        """The bodies of the last messages added to the queue (physical name), oldest first."""
        with self._lock:
            return list(self._queues[queue_name])

    def redeliver(self, cloud: Any, queue_logical_id: str, body: str) -> None:
        """Deliver ``body`` to the queue once more, as SQS's at-least-once delivery may."""
        sqs = cloud.client("sqs")
        url = sqs.get_queue_url(QueueName=cloud.physical(queue_logical_id).rsplit("/", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body)
        with self._lock:
            self.fired.append(f"sqs.redeliver {queue_logical_id}")

    def expire_visibility(self, cloud: Any, queue_logical_id: str) -> int:
        """Let the visibility timeout of every in-flight message on the queue run out now (the poller counts
        it in real seconds: a minute, here): failed records come back at once. Returns how many did."""
        from moto.sqs.models import sqs_backends

        from infra.localcloud.patches.sqs_poller import activity

        name = cloud.physical(queue_logical_id).rsplit("/", 1)[-1]
        queue = sqs_backends[cloud.account_id][cloud.region].queues[name]
        expired = 0
        for message in list(queue._messages):
            if not message.visible:
                message.change_visibility(0)
                expired += 1
        activity.notify()
        return expired

    def _remember(self, queue_name: str, body: str) -> None:
        with self._lock:
            self._queues[queue_name].append(body)

    # ------------------------------------------------------------------ firing
    def _take(self, kind: str, targets: tuple[str, ...], params: dict[str, Any]) -> Fault | None:
        if getattr(_matching, "active", False):
            return None  # an AWS call made by a `when` predicate (a lookup) is never itself faulted
        _matching.active = True
        try:
            with self._lock:
                for fault in self._faults:
                    if fault.kind == kind and fault.target in targets and fault.take(params):
                        self.fired.append(f"{fault.target} {fault.error}")
                        return fault
        finally:
            _matching.active = False
        return None

    def aws_fault(self, event_name: str, body: Any) -> Fault | None:
        """The fault for a botocore ``before-send.<service>.<Operation>`` request, if one fires."""
        if not self._faults:
            return None
        _, service, operation = [*event_name.split(".", 2), "", ""][:3]
        return self._take("aws", (f"{service.lower()}.{operation}",), _params(body))

    def lambda_fault(self, function_name: str, event: Any) -> Fault | None:
        """The fault for an invoke of ``function_name``, if one fires."""
        if not self._faults:
            return None
        return self._take("lambda", (function_name,), event if isinstance(event, dict) else {})


def _params(body: Any) -> dict[str, Any]:
    """A request's parameters, for a fault's ``when``: a streamed body (an S3 upload) has none to match on."""
    if not isinstance(body, bytes | str | None):
        return {}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return {}
    return {k: v[0] for k, v in parse_qs(text).items()}


def error_response(fault: Fault, request: Any) -> tuple[int, dict[str, str], bytes]:
    """The error as the service's protocol answers it: JSON (``__type``) or query/XML (``<ErrorResponse>``)."""
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    body = body if isinstance(body, str) else ""  # a streamed body (an S3 upload): not JSON
    if body.startswith("{") or "json" in str(request.headers.get("Content-Type", "")):
        payload = {"__type": fault.error, "message": fault.message, **fault.extra}
        return fault.status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": fault.error}, \
            json.dumps(payload).encode()
    kind = "Sender" if fault.status < 500 else "Receiver"
    xml = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{fault.error}</Code><Message>{fault.message}</Message>"
           f"</Error><RequestId>injected</RequestId></ErrorResponse>")
    return fault.status, {"Content-Type": "text/xml"}, xml.encode()


injector = FaultInjector()
"""The local cloud's faults (``LocalCloud.faults``)."""

_applied = False
_apply_lock = threading.Lock()


def apply() -> None:
    """Hook the injector into moto's request stubber and SQS (idempotent; after the SQS poller patch)."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from moto.sqs import models as sqs_models

        from infra.localcloud.patches import stubber

        def injected(proceed: Callable[[], Any], moto_stubber: Any, event_name: str, request: Any) -> Any:
            if moto_stubber.enabled:
                fault = injector.aws_fault(event_name, request.body)
                if fault is not None:
                    status, headers, body = error_response(fault, request)
                    return AWSResponse(request.url, status, headers, MockRawResponse(body))
            return proceed()

        original_add = sqs_models.Queue.add_message

        def add_message(self: Any, message: Any) -> None:
            injector._remember(self.name, message.body)
            original_add(self, message)

        stubber.wrap(injected)
        sqs_models.Queue.add_message = add_message  # type: ignore[method-assign]
        _applied = True
