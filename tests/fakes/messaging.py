"""Twins of the outbound adapters in shared/adapters/messaging.py: they record what the code sent."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from shared.adapters.messaging import MAX_DELAY_SECONDS, SOURCE
from shared.domain.steering import MoveTask, QueueInfo
from tests.fakes.table import AwsError

ACCOUNT = "123456789012"
REGION = "us-east-1"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:opslayer-test"
EXECUTION_ARN = re.compile(r"^arn:aws[-a-z]*:states:[-0-9a-zA-Z]+:[0-9]{12}:execution:.+")
E164 = re.compile(r"^\+?[1-9]\d{1,14}$")  # what SNS accepts as a phone number
MAX_SMS_CHARACTERS = 1600  # SNS refuses a longer SMS in one publish


class RecordingEvents:
    """EventPublisher: keeps each PutEvents entry it would send (bus, source, detail-type, detail as JSON
    text), in order; `published` reads them back as `(detail_type, detail)`, the detail as EventBridge
    delivers it."""

    def __init__(self, bus_name: str = "opslayer-test") -> None:
        self.bus = bus_name
        self.entries: list[dict[str, str]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {"EventBusName": self.bus, "Source": SOURCE, "DetailType": detail_type,
                 "Detail": json.dumps(detail, default=str)}
        if not detail_type:  # EventBridge fails the entry (InvalidArgument); the publisher raises
            raise RuntimeError(f"EventBridge rejected {detail_type}: DetailType is a required argument.")
        self.entries.append(entry)

    @property
    def published(self) -> list[tuple[str, dict[str, Any]]]:
        return [(e["DetailType"], json.loads(e["Detail"])) for e in self.entries]

    def types(self) -> list[str]:
        return [t for t, _ in self.published]

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.published if t == detail_type]

    def last(self, detail_type: str) -> dict[str, Any]:
        found = self.of_type(detail_type)
        if not found:
            raise AssertionError(f"no {detail_type} event; published: {self.types()}")
        return found[-1]

    def clear(self) -> None:
        self.entries.clear()


@dataclass
class Execution:
    name: str
    arn: str
    input: dict[str, Any]
    stopped: str | None = None  # the cause, once stopped


class FakeWorkflow:
    """Workflow: named executions (a second start of a name returns the first one's ARN), task tokens
    handed out as the state machine would (`wait_token`), resumes and stops recorded."""

    def __init__(self, state_machine_arn: str = STATE_MACHINE_ARN) -> None:
        self.arn = state_machine_arn
        self.executions: dict[str, Execution] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self._waiting: dict[str, str] = {}  # task token -> execution name ("" when not tied to one)
        self._tokens = itertools.count(1)

    def start(self, name: str, payload: dict[str, Any]) -> str:
        data = json.loads(json.dumps(payload))  # a payload JSON cannot hold fails first, as in the adapter
        found = self.executions.get(name)
        if found is None:
            found = self.executions[name] = Execution(name, self.execution_arn(name), data)
        return found.arn

    def execution_arn(self, name: str) -> str:
        return self.arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def wait_token(self, step: str = "wait", execution: str = "") -> str:
        """A task token for a `.waitForTaskToken` step (offer, schedule, completion...), live until resumed,
        expired or its execution stopped."""
        token = f"token-{next(self._tokens)}-{step}"
        self._waiting[token] = execution
        return token

    def expire(self, token: str) -> None:
        """The step's timeout fired: a later resume finds the wait over (TaskTimedOut)."""
        self._waiting.pop(token, None)

    def waiting(self, token: str) -> bool:
        return token in self._waiting

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        data = json.loads(json.dumps(output))  # an output JSON cannot hold fails with the wait still live
        if task_token not in self._waiting:
            return False
        del self._waiting[task_token]
        self.resumed.append((task_token, data))
        return True

    def output_for(self, task_token: str) -> dict[str, Any] | None:
        return next((out for token, out in self.resumed if token == task_token), None)

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop a running execution; one that is over or was never started is left alone (as the adapter
        does); an ARN that is no execution ARN fails (InvalidArn)."""
        if not EXECUTION_ARN.match(execution_arn):
            raise AwsError("InvalidArn", f"Execution Does Not Exist: '{execution_arn}'")
        for execution in self.executions.values():
            if execution.arn == execution_arn and execution.stopped is None:
                execution.stopped = cause[:256]
                self._waiting = {t: e for t, e in self._waiting.items() if e != execution.name}


@dataclass(frozen=True)
class SentMessage:
    channel: str  # "sms" | "email"
    to: str
    body: str
    subject: str | None = None
    id: str = ""
    sender: str | None = None  # the email's From (SES Source)


class Outbox:
    """Messenger: every SMS and email, in order, refused as SNS and SES refuse them: a phone number that is
    not E.164 or a body over 1600 characters (InvalidParameter); an email whose sender is not a verified
    identity, as an address or its domain (MessageRejected), or whose recipient has no domain
    (InvalidParameterValue). The sender is verified unless `verified` says otherwise."""

    def __init__(self, sender_email: str = "maintenance@example.com", verified: set[str] | None = None) -> None:
        self.sender = sender_email
        self.verified = {sender_email} if verified is None else verified  # SES identities: addresses, domains
        self.sent: list[SentMessage] = []
        self._ids = itertools.count(1)

    def sms(self, phone: str, body: str) -> str:
        if not E164.match(phone):
            raise AwsError("InvalidParameter", "Phone number does not meet the E164 format")
        if len(body) > MAX_SMS_CHARACTERS:
            raise AwsError("InvalidParameter", "SMS message must be less than 1600 bytes")
        message = SentMessage("sms", phone, body, id=f"sms-{next(self._ids)}")
        self.sent.append(message)
        return message.id

    def email(self, to: str, subject: str, body: str) -> str:
        sender = parseaddr(self.sender)[1]
        if sender not in self.verified and sender.rsplit("@", 1)[-1] not in self.verified:
            raise AwsError("MessageRejected", f"Email address not verified {self.sender}")
        recipient = parseaddr(to)[1]
        if recipient.count("@") != 1 or not recipient.split("@")[1]:
            raise AwsError("InvalidParameterValue", "Missing domain")
        message = SentMessage("email", to, body, subject, id=f"email-{next(self._ids)}", sender=self.sender)
        self.sent.append(message)
        return message.id

    def sent_to(self, address: str) -> list[SentMessage]:
        """Messages to a phone number or an email address (case-insensitive for email)."""
        return [m for m in self.sent if m.to.lower() == address.lower()]

    def sms_to(self, phone: str) -> list[SentMessage]:
        return [m for m in self.sent_to(phone) if m.channel == "sms"]

    def emails_to(self, address: str) -> list[SentMessage]:
        return [m for m in self.sent_to(address) if m.channel == "email"]

    def clear(self) -> None:
        self.sent.clear()


class FakeSecrets:
    """SecretCache over a dict, cached for `ttl_seconds` like the real one (so rotation is seen as late)."""

    def __init__(self, values: dict[str, str] | None = None, ttl_seconds: float = 300) -> None:
        self.ttl = ttl_seconds
        self.values = dict(values or {})
        self.reads: list[str] = []  # ARNs fetched from "Secrets Manager" (cache misses)
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def put(self, arn: str, value: str) -> None:
        """Create or rotate a secret in the store (readers see it once their cached copy is older than ttl)."""
        self.values[arn] = value

    def get(self, arn: str) -> str:
        now = time.monotonic()
        hit = self._cache.get(arn)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        if arn not in self.values:
            raise AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
        self.reads.append(arn)
        value = self.values[arn]
        with self._lock:
            self._cache[arn] = (now, value)
        return value


@dataclass(frozen=True)
class QueuedMessage:
    queue_url: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    delay_seconds: int = 0
    id: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def queue_url(name: str) -> str:
    """A queue URL as SQS spells it (the fake reads the queue's name off its end)."""
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


def queue_arn(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rstrip('/').rsplit('/', 1)[-1]}"


class FakeQueues:
    """QueueSender: messages per queue URL, with their attributes and delay (clamped like SQS's); dead
    letters (`dead_letter`) and message-move tasks that run until `finish_moves` (asynchronous, as on SQS)."""

    def __init__(self) -> None:
        self.sent: list[QueuedMessage] = []
        self._ids = itertools.count(1)
        self.dead: dict[str, list[tuple[str, QueuedMessage]]] = {}  # DLQ URL -> (source URL, message)
        self.tasks: list[MoveTask] = []  # oldest first
        self._handles = itertools.count(1)
        self._now_ms = itertools.count(1_700_000_000_000, 1000)

    def dead_letter(self, source_url: str, dead_letter_url: str, body: str,
                    attributes: dict[str, str] | None = None) -> None:
        """A message the source queue's consumer kept failing, now in its dead-letter queue."""
        message = QueuedMessage(dead_letter_url, body, dict(attributes or {}), id=f"msg-{next(self._ids)}")
        self.dead.setdefault(dead_letter_url, []).append((source_url, message))

    def info(self, queue_url: str) -> QueueInfo:
        return QueueInfo(arn=queue_arn(queue_url), depth=len(self.dead.get(queue_url, [])) + len(self.on(queue_url)))

    def start_move(self, dead_letter_arn: str) -> str:
        if any(t.running and t.source_arn == dead_letter_arn for t in self.tasks):
            raise AwsError("AWS.SimpleQueueService.UnsupportedOperation",
                           "There is already a task running. Only one active task is allowed per source queue.")
        url = next((u for u in self.dead if queue_arn(u) == dead_letter_arn), None)
        if url is None:
            raise AwsError("AWS.SimpleQueueService.NonExistentQueue", "The source queue is not a dead-letter queue.")
        handle = f"task-{next(self._handles)}"
        self.tasks.append(MoveTask(status="RUNNING", source_arn=dead_letter_arn, handle=handle,
                                   to_move=len(self.dead[url]), started_at=next(self._now_ms)))
        return handle

    def finish_moves(self) -> None:
        """Running move tasks complete: each dead letter goes back to the queue it came from."""
        for i, task in enumerate(self.tasks):
            if not task.running:
                continue
            url = next(u for u in self.dead if queue_arn(u) == task.source_arn)
            moved = self.dead.pop(url)
            for source_url, message in moved:
                self.send(source_url, message.body, message.attributes)
            self.tasks[i] = MoveTask(status="COMPLETED", source_arn=task.source_arn, moved=len(moved),
                                     to_move=task.to_move, started_at=task.started_at)

    def move_tasks(self, dead_letter_arn: str) -> list[MoveTask]:
        return [t for t in reversed(self.tasks) if t.source_arn == dead_letter_arn][:10]

    def send(self, queue_url: str, body: str, attributes: dict[str, str] | None = None) -> str:
        return self._record(QueuedMessage(queue_url, body, dict(attributes or {}), id=f"msg-{next(self._ids)}"))

    def send_delayed(self, queue_url: str, body: str, delay_seconds: int) -> str:
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        return self._record(QueuedMessage(queue_url, body, delay_seconds=delay, id=f"msg-{next(self._ids)}"))

    def _record(self, message: QueuedMessage) -> str:
        self.sent.append(message)
        return message.id

    def on(self, queue_url: str) -> list[QueuedMessage]:
        return [m for m in self.sent if m.queue_url == queue_url]

    def clear(self) -> None:
        self.sent.clear()
