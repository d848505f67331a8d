"""The local cloud's IoT topic rules and Scheduler clock, on a tiny template of their own.

The module's cloud runs in its own region (its own Scheduler clock) with the clock frozen at a known
instant, so every firing is driven by ``advance_clock`` / ``fire_schedule``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.localcloud import LocalCloud, UnsupportedLocally, schedules
from tests.infra.handlers import recorder

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"
T0 = datetime(2030, 1, 1, tzinfo=UTC)  # a Tuesday


@pytest.fixture(scope="module")
def local() -> Iterator[LocalCloud]:
    cloud = LocalCloud(TEMPLATES / "iot_scheduler.yaml", {"Stage": "iot"}, region="eu-west-1",
                       code_root=REPO_ROOT, frozen_clock=T0)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


def publish(cloud: LocalCloud, topic: str, payload: Any) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    cloud.client("iot-data").publish(topic=topic, qos=1, payload=body)


def drain(cloud: LocalCloud, logical_id: str) -> list[str]:
    """Every message body on the queue (received and deleted)."""
    assert cloud.wait_idle(timeout=5), cloud.busy_reasons()
    sqs = cloud.client("sqs")
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=cloud.physical(logical_id), MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=cloud.physical(logical_id), ReceiptHandle=message["ReceiptHandle"])


# ----------------------------------------------------------------------------- IoT rules
def test_deploy_creates_rules_and_schedules_for_real(local: LocalCloud) -> None:
    rule = local.client("iot").get_topic_rule(ruleName=local.physical("SiteAlarms"))["rule"]
    assert rule["sql"].startswith("SELECT *, topic(2) AS site")
    assert rule["actions"][0]["sqs"]["queueUrl"] == local.physical("RuleQueue")
    described = local.client("scheduler").get_schedule(Name="iotsched-iot-nightly")
    assert described["ScheduleExpressionTimezone"] == "America/New_York"
    assert described["Target"]["Arn"].endswith(":iotsched-iot-scheduled")


def test_matching_publish_reaches_queue_with_topic_level_and_where_filters(local: LocalCloud) -> None:
    marker = uuid.uuid4().hex
    publish(local, "sites/s1/alarms/leak/kitchen", {"level": 3, "kind": "leak", "marker": marker})
    publish(local, "sites/s2/alarms/leak", {"level": 1, "kind": "leak", "marker": marker})  # WHERE false
    publish(local, "sites/s3/alarms", {"level": 5, "kind": "test", "marker": marker})  # NOT kind = 'test'
    publish(local, "sites/s4/other/leak", {"level": 5, "kind": "leak", "marker": marker})  # topic does not match
    publish(local, "sites/s5/alarms", {"kind": "leak", "marker": marker})  # level missing: Undefined
    bodies = [json.loads(b) for b in drain(local, "RuleQueue")]
    assert bodies == [{"level": 3, "kind": "leak", "marker": marker, "site": "s1"}]


def test_projection_renames_nested_fields_and_base64_encodes(local: LocalCloud) -> None:
    publish(local, "sites/s1/units/u7/telemetry", {"kind": "temp", "reading": {"value": 21.5}, "noise": 1})
    publish(local, "sites/s1/units/u8/telemetry", {"kind": "temp", "reading": {"value": 3}})  # WHERE false
    publish(local, "sites/s1/units/u9/telemetry", {"kind": "temp", "reading": {"value": 3}, "urgent": True})
    bodies = [json.loads(base64.b64decode(b)) for b in drain(local, "EncodedQueue")]
    assert sorted(bodies, key=lambda b: b["unit"]) == [
        {"kind": "temp", "value": 21.5, "unit": "u7"},
        {"kind": "temp", "value": 3, "unit": "u9"},
    ]


def test_select_star_forwards_a_non_json_payload_unchanged_and_disabled_rules_stay_quiet(local: LocalCloud) -> None:
    publish(local, "raw/meter/1", b"pulse=17;unit=kWh")
    # Two rules select raw/#, one of them disabled: exactly one copy arrives.
    assert drain(local, "RawQueue") == ["pulse=17;unit=kWh"]


def test_lambda_action_invokes_the_function_with_the_rule_output(local: LocalCloud) -> None:
    marker = uuid.uuid4().hex
    publish(local, "devices/d1/events", {"marker": marker})
    assert local.wait_idle(timeout=5), local.busy_reasons()
    events = [r["event"] for r in recorder.records_for("iotsched-iot-recorder")
              if isinstance(r["event"], dict) and r["event"].get("marker") == marker]
    assert events == [{"marker": marker, "topic": "devices/d1/events"}]


def test_error_action_gets_the_aws_error_message_when_the_queue_is_gone(local: LocalCloud) -> None:
    local.client("sqs").delete_queue(QueueUrl=local.physical("DoomedQueue"))
    payload = json.dumps({"boom": True}).encode()
    publish(local, "doomed/a", payload)
    [raw] = drain(local, "RuleErrors")
    envelope = json.loads(raw)
    assert envelope["ruleName"] == local.physical("Doomed")
    assert envelope["topic"] == "doomed/a"
    assert base64.b64decode(envelope["base64OriginalPayload"]) == payload
    assert set(envelope) == {"ruleName", "topic", "cloudwatchTraceId", "clientId", "base64OriginalPayload",
                             "failures"}
    [failure] = envelope["failures"]
    assert failure["failedAction"] == "SqsAction"
    assert failure["failedResource"] == local.physical("DoomedQueue")
    assert "QueueDoesNotExist" in failure["errorMessage"]


def test_in_process_publish_to_the_described_account_endpoint_goes_through_rules(local: LocalCloud) -> None:
    address = local.client("iot").describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    assert address.endswith(f"-ats.iot.{local.region}.amazonaws.com")
    iot_data = boto3.client("iot-data", endpoint_url=f"https://{address}", region_name=local.region)
    iot_data.publish(topic="sites/s9/alarms", payload=json.dumps({"level": 4, "kind": "hvac"}).encode())
    assert [json.loads(b) for b in drain(local, "RuleQueue")] == [{"level": 4, "kind": "hvac", "site": "s9"}]


def test_unsupported_sql_fails_the_deploy_with_the_reason(tmp_path: Path) -> None:
    template = tmp_path / "bad_rule.yaml"
    template.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  Q: { Type: AWS::SQS::Queue }\n"
        "  Bad:\n"
        "    Type: AWS::IoT::TopicRule\n"
        "    Properties:\n"
        "      RuleName: bad_rule\n"
        "      TopicRulePayload:\n"
        "        Sql: \"SELECT * FROM 'a/#' WHERE kind IN ('x', 'y')\"\n"
        "        Actions: [{ Sqs: { QueueUrl: !Ref Q, RoleArn: 'arn:aws:iam::123456789012:role/x' } }]\n"
    )
    broken = LocalCloud(template, {}, region="eu-west-3", code_root=REPO_ROOT, stack_name="bad-rule")
    with pytest.raises(UnsupportedLocally, match=r"bad_rule: .*the IN operator is not supported"):
        broken.start()


# ----------------------------------------------------------------------------- Scheduler
def test_rate_schedule_fires_on_advance_with_exactly_the_input(local: LocalCloud) -> None:
    before = local.clock_now()
    local.advance_clock(max(600.0, (T0 + timedelta(minutes=20) - before).total_seconds()))
    assert local.clock_now() >= before + timedelta(seconds=600)
    fired = [f for f in local.clock.history if f.schedule == "iotsched-iot-every-five"]
    # No StartDate: Scheduler starts at once (at deploy, T0), then every 5 minutes until EndDate (00:12).
    assert [f.scheduled_time for f in fired] == [T0 + timedelta(minutes=m) for m in (0, 5, 10)]
    assert drain(local, "SweepQueue") == ['{"job": "sweep",  "spaces": "kept"}'] * 3
    assert local.next_fire_time("EveryFiveMinutes") is None


def test_disabled_schedule_does_not_fire(local: LocalCloud) -> None:
    assert local.next_fire_time("Paused") is None
    fired = local.advance_clock(180)
    assert "iotsched-iot-paused" not in {f.schedule for f in fired}
    assert [b for b in drain(local, "ScheduleQueue") if "paused" in b] == []


def test_at_schedule_fires_once_with_context_attributes(local: LocalCloud) -> None:
    local.advance_clock(3600)
    local.advance_clock(86400)
    fired = [f for f in local.clock.history if f.schedule == "iotsched-iot-once"]
    assert [f.scheduled_time for f in fired] == [datetime(2030, 1, 1, 0, 3, tzinfo=UTC)]
    assert local.next_fire_time("Once") is None
    assert local.wait_idle(timeout=5), local.busy_reasons()
    events = [r["event"] for r in recorder.records_for("iotsched-iot-recorder")
              if isinstance(r["event"], dict) and r["event"].get("job") == "once"]
    assert events == [{"job": "once", "schedule": fired[0].arn}]


def test_cron_schedule_fires_in_its_timezone_and_starts_a_machine(local: LocalCloud) -> None:
    nightly = local.next_fire_time("Nightly")
    assert nightly is not None and nightly.astimezone(schedules.zone("America/New_York")).strftime("%H:%M") == "02:30"
    kickoff = local.next_fire_time("Kickoff")
    assert kickoff is not None and kickoff.hour == 12 and kickoff.weekday() < 5
    firings = local.advance_clock((max(nightly, kickoff) - local.clock_now()).total_seconds())
    assert [f.scheduled_time for f in firings if f.schedule == "iotsched-iot-nightly"] == [nightly]
    assert any(f.schedule == "iotsched-iot-kickoff" for f in firings)
    expected = {"job": "nightly", "at": nightly.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert [json.loads(b) for b in drain(local, "ScheduleQueue")].count(expected) == 1
    sfn = local.client("stepfunctions")
    inputs = [sfn.describe_execution(executionArn=e["executionArn"])["input"]
              for e in sfn.list_executions(stateMachineArn=local.outputs["MachineArn"])["executions"]]
    assert '{"job": "kickoff"}' in inputs


def test_fire_schedule_twice_for_the_same_time_delivers_twice(local: LocalCloud) -> None:
    when = datetime(2030, 2, 3, 7, 30, tzinfo=UTC)
    first = local.fire_schedule("Nightly", scheduled_time=when)
    again = local.fire_schedule("iotsched-iot-nightly", scheduled_time=when)
    assert first.input == again.input == '{"job": "nightly", "at": "2030-02-03T07:30:00Z"}'
    assert first.error is None and again.error is None
    assert [b for b in drain(local, "ScheduleQueue") if "2030-02-03" in b] == [first.input, first.input]
    # Firing by hand does not move the schedule's own next due time.
    assert local.next_fire_time("Nightly") != when


@pytest.mark.parametrize(
    ("expression", "timezone", "after", "expected"),
    [
        # Weekdays 09:00-17:45 every 15 minutes: 2030-01-04 is a Friday, so next is Monday.
        ("cron(0/15 9-17 ? * MON-FRI *)", None, "2030-01-04T17:50:00+00:00", "2030-01-07T09:00:00+00:00"),
        ("cron(10,40 * * * ? *)", None, "2030-01-01T00:10:00+00:00", "2030-01-01T00:10:00+00:00"),
        ("cron(0 0 1 JAN,JUL ? 2031-2032)", None, "2030-05-05T00:00:00+00:00", "2031-01-01T00:00:00+00:00"),
        # 08:00 in New York is 13:00 UTC in winter, 12:00 UTC in summer.
        ("cron(0 8 * * ? *)", "America/New_York", "2030-01-15T14:00:00+00:00", "2030-01-16T13:00:00+00:00"),
        ("cron(0 8 * * ? *)", "America/New_York", "2030-07-15T14:00:00+00:00", "2030-07-16T12:00:00+00:00"),
        # 02:30 does not exist on the spring-forward day (2030-03-10): skipped, as Scheduler documents.
        ("cron(30 2 * * ? *)", "America/New_York", "2030-03-09T08:00:00+00:00", "2030-03-11T06:30:00+00:00"),
        ("at(2030-06-01T12:00:00)", "Europe/Berlin", "2030-01-01T00:00:00+00:00", "2030-06-01T10:00:00+00:00"),
    ],
)
def test_next_fire_time_of_expressions(expression: str, timezone: str | None, after: str, expected: str) -> None:
    moment = datetime.fromisoformat(after)
    assert schedules.parse(expression, timezone).first_at_or_after(moment, moment) == datetime.fromisoformat(expected)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 12 L * ? *)", "L, W or #"),
        ("cron(0 12 ? * 3#2 *)", "L, W or #"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 12 * *)", "needs 6 fields"),
        ("rate(0 minutes)", "positive"),
        ("every day", "is not rate"),
    ],
)
def test_unsupported_schedule_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(schedules.UnsupportedSchedule, match=reason):
        schedules.parse(expression)


def test_universal_target_fails_the_deploy(tmp_path: Path) -> None:
    template = tmp_path / "universal.yaml"
    template.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  Sdk:\n"
        "    Type: AWS::Scheduler::Schedule\n"
        "    Properties:\n"
        "      Name: sdk-call\n"
        "      ScheduleExpression: rate(1 hour)\n"
        "      FlexibleTimeWindow: { Mode: 'OFF' }\n"
        "      Target:\n"
        "        Arn: arn:aws:scheduler:::aws-sdk:sqs:sendMessage\n"
        "        RoleArn: arn:aws:iam::123456789012:role/x\n"
    )
    broken = LocalCloud(template, {}, region="eu-west-3", code_root=REPO_ROOT, stack_name="universal")
    with pytest.raises(UnsupportedLocally, match="sdk-call: universal target"):
        broken.start()


# ----------------------------------------------------------------------------- server mode
def test_server_mode_iot_data_publish_goes_through_the_rule() -> None:
    cloud = LocalCloud(TEMPLATES / "iot_scheduler.yaml", {"Stage": "srv"}, region="eu-central-1",
                       code_root=REPO_ROOT, server_port=0, frozen_clock=T0)
    cloud.start()
    try:
        assert cloud.endpoint_url is not None
        iot_data = boto3.client("iot-data", endpoint_url=cloud.endpoint_url, region_name=cloud.region,
                                aws_access_key_id="x", aws_secret_access_key="x")
        iot_data.publish(topic="sites/hq/alarms/smoke", payload=json.dumps({"level": 2, "kind": "smoke"}).encode())
        bodies = [json.loads(b) for b in drain(cloud, "RuleQueue")]
        assert bodies == [{"level": 2, "kind": "smoke", "site": "hq"}]
    finally:
        cloud.stop()
