"""Outbound side effects behind small adapters: domain events, workflow callbacks, SMS, email, secrets."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from shared.adapters.aws import client as aws_client
from shared.adapters.aws import error_code

if TYPE_CHECKING:
    from shared.domain.steering import MoveTask, QueueInfo

SOURCE = "opslayer.workorders"


class EventPublisher:
    """Domain events on the EventBridge bus (notification and sync consumers subscribe)."""

    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus = bus_name
        self._client = client

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        events = self._client or aws_client("events")
        resp = events.put_events(Entries=[{"EventBusName": self.bus, "Source": SOURCE, "DetailType": detail_type,
                                           "Detail": json.dumps(detail, default=str)}])
        if resp.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge rejected {detail_type}: {resp['Entries']}")


DETOUR = "Detour"  # the error a wait's Catch routes by (state_machines/work_order.asl.json)
# Answers to a wait that leave the routine path: a job the triage step does not send straight to its first
# offer (an emergency, a report joined to an incident, an ops retry), an offer declined, no candidate left to
# offer, a triage corrected while offered or accepted, a fix the tenant says did not work, an invoice rejected,
# an invoice approved by a person (the coding step, whose routine case bills and ends, goes on to the bill step),
# a job closed by ops while the money side waits.
DETOURS = frozenset({"routed", "declined", "exhausted", "retriaged", "retimed", "not_resolved", "rejected",
                     "approved", "closed"})


class Workflow:
    """The work-order state machine: start (named, so a duplicate start is a no-op), callbacks, stop."""

    def __init__(self, state_machine_arn: str = "", client: Any = None) -> None:
        self.arn = state_machine_arn
        self._client = client

    @property
    def sfn(self) -> Any:
        return self._client or aws_client("stepfunctions")

    def start(self, name: str, payload: dict[str, Any]) -> str:
        try:
            return self.sfn.start_execution(stateMachineArn=self.arn, name=name,
                                            input=json.dumps(payload))["executionArn"]
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            return self.execution_arn(name)

    def execution_arn(self, name: str) -> str:
        return self.arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        """Complete a task-token wait. False when the wait is already over (timed out or done).

        The answer a wait expects (accepted, scheduled, completed, resolved, submitted, approved) succeeds the
        task, so the state machine goes straight on to the next step; a detour (`DETOURS`: declined, re-triaged
        ...) fails it with the error `Detour` and the output as its cause, which the wait's Catch routes. Every
        Choice state is a billed transition: the routine path takes none after a wait."""
        try:
            if output.get("outcome") in DETOURS:
                self.sfn.send_task_failure(taskToken=task_token, error=DETOUR, cause=json.dumps(output))
            else:
                self.sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
            return True
        except Exception as exc:
            if error_code(exc) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                return False
            raise

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self.sfn.stop_execution(executionArn=execution_arn, cause=cause[:256])
        except Exception as exc:
            if error_code(exc) not in ("ExecutionDoesNotExist",):
                raise


MAX_DELAY_SECONDS = 900  # SQS DelaySeconds: at most 15 minutes


class QueueSender:
    """Messages to an SQS queue (what must not be lost is queued before it is acknowledged)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def send(self, queue_url: str, body: str, attributes: dict[str, str] | None = None) -> str:
        sqs = self._client or aws_client("sqs")
        attrs = {k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()}
        return sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attrs)["MessageId"]

    def send_delayed(self, queue_url: str, body: str, delay_seconds: int) -> str:
        """A message that comes back later (clamped to 0..15 minutes): deferred SMS re-check their quiet
        hours on each return instead of being dropped."""
        sqs = self._client or aws_client("sqs")
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        return sqs.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay)["MessageId"]

    def info(self, queue_url: str) -> QueueInfo:
        from shared.domain.steering import QueueInfo

        sqs = self._client or aws_client("sqs")
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url,
                                         AttributeNames=["QueueArn", "ApproximateNumberOfMessages"])["Attributes"]
        return QueueInfo(arn=attrs["QueueArn"], depth=int(attrs.get("ApproximateNumberOfMessages", 0)))

    def start_move(self, dead_letter_arn: str) -> str:
        """No DestinationArn: SQS moves each message back to the queue that dead-lettered it."""
        sqs = self._client or aws_client("sqs")
        return sqs.start_message_move_task(SourceArn=dead_letter_arn)["TaskHandle"]

    def move_tasks(self, dead_letter_arn: str) -> list[MoveTask]:
        from shared.domain.steering import MoveTask

        sqs = self._client or aws_client("sqs")
        results = sqs.list_message_move_tasks(SourceArn=dead_letter_arn, MaxResults=10).get("Results", [])
        return [MoveTask(status=r["Status"], source_arn=r.get("SourceArn", dead_letter_arn),
                         handle=r.get("TaskHandle"), moved=int(r.get("ApproximateNumberOfMessagesMoved", 0)),
                         to_move=r.get("ApproximateNumberOfMessagesToMove"), started_at=r.get("StartedTimestamp"),
                         failure=r.get("FailureReason")) for r in results]


class Messenger:
    """SMS through SNS, email through SES. `sms_origination` (the SmsOriginationIdentity parameter: a
    toll-free or 10DLC number, or its id/ARN) is the number every SMS is sent from; empty lets SNS choose."""

    def __init__(self, sender_email: str, sns: Any = None, ses: Any = None, sms_origination: str = "") -> None:
        self.sender = sender_email
        self.sms_origination = sms_origination
        self._sns = sns
        self._ses = ses

    def sms_attributes(self) -> dict[str, dict[str, str]]:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sms_origination:
            attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": self.sms_origination}
        return attributes

    def sms(self, phone: str, body: str) -> str:
        sns = self._sns or aws_client("sns")
        resp = sns.publish(PhoneNumber=phone, Message=body, MessageAttributes=self.sms_attributes())
        return resp["MessageId"]

    def email(self, to: str, subject: str, body: str) -> str:
        ses = self._ses or aws_client("ses")
        resp = ses.send_email(Source=self.sender, Destination={"ToAddresses": [to]}, Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}})
        return resp["MessageId"]


class SecretCache:
    """Secrets Manager values, cached for a few minutes (rotation-friendly, one call per warm container)."""

    def __init__(self, ttl_seconds: float = 300, client: Any = None) -> None:
        self.ttl = ttl_seconds
        self._client = client
        self._values: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, arn: str) -> str:
        now = time.monotonic()
        hit = self._values.get(arn)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        value = (self._client or aws_client("secretsmanager")).get_secret_value(SecretId=arn)["SecretString"]
        with self._lock:
            self._values[arn] = (now, value)
        return value
