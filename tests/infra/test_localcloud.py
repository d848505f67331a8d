"""The local cloud itself: deploy verification, the moto-gap patches, API events, server mode.

These tests use tiny handlers under ``tests/infra/handlers`` (and a tiny template) so they
do not depend on the project's domain handlers; for ``template.yaml`` they only check the deploy.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.localcloud import DeployVerificationError, LocalCloud, env_for
from infra.localcloud.envoverlay import overlay
from infra.localcloud.patches import stepfunctions
from tests.infra.handlers import batch, recorder, token

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"


@pytest.fixture(scope="module")
def tiny() -> Iterator[LocalCloud]:
    local = LocalCloud(TEMPLATES / "tiny.yaml", {"Stage": "tiny"}, code_root=REPO_ROOT)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``check`` until it returns something truthy (10 ms steps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout}s")


# ----------------------------------------------------------------------------- real template
def test_real_template_every_resource_is_real(cloud: LocalCloud) -> None:
    unused_alert_slots = {"OpsAlertEmail3Subscription", "OpsAlertPhone2Subscription", "OpsAlertPhone3Subscription"}
    expected = {
        logical_id
        for logical_id, spec in cloud.translated["Resources"].items()
        if spec.get("Condition") is None or cloud.parameters.get("OpsAuthMode") == "key"
    } - unused_alert_slots
    assert expected - set(cloud.resources) == set()
    assert len(cloud.resources) >= 40

    secret = cloud.client("secretsmanager").get_secret_value(SecretId=cloud.physical("LinkSigningSecret"))
    assert len(secret["SecretString"]) == 64 and secret["SecretString"].isalnum()
    assert cloud.client("dynamodb").describe_table(TableName="opslayer-test")["Table"]["TableStatus"] == "ACTIVE"
    rules = cloud.client("events").list_rules(EventBusName="opslayer-test")["Rules"]
    template_rules = [s for s in cloud.translated["Resources"].values() if s["Type"] == "AWS::Events::Rule"]
    on_bus = [s for s in template_rules if s["Properties"].get("EventBusName")]
    assert len(rules) == len(on_bus) >= 2
    default = {r["Name"] for r in cloud.client("events").list_rules(EventBusName="default")["Rules"]}
    on_default = {cloud.physical(logical_id) for logical_id, s in cloud.translated["Resources"].items()
                  if s["Type"] == "AWS::Events::Rule" and not s["Properties"].get("EventBusName")}
    assert on_default and on_default <= default  # S3 announces uploads on the default bus
    functions = cloud.client("lambda")
    triage_env = functions.get_function_configuration(FunctionName="opslayer-test-triage")["Environment"]
    assert triage_env["Variables"]["STAGE_TIMER_OVERRIDES"] == "{}"  # the parameter's default
    mappings = functions.list_event_source_mappings(FunctionName="opslayer-test-intake")["EventSourceMappings"]
    assert [(m["BatchSize"], m.get("FunctionResponseTypes")) for m in mappings] == [
        (10, ["ReportBatchItemFailures"])
    ]
    policy = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.physical("IntakeQueue"), AttributeNames=["Policy"]
    )["Attributes"]["Policy"]
    assert "events.amazonaws.com" in policy


def test_real_template_alarms_reach_the_ops_alert_subscribers(cloud: LocalCloud) -> None:
    from tests.conftest import CLOUD_PARAMETERS

    topic = cloud.outputs["OpsAlertsTopicArn"]
    sns = cloud.client("sns")
    subscribed = sorted((s["Protocol"], s["Endpoint"])
                        for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])
    emails, phones = CLOUD_PARAMETERS["OpsAlertEmails"].split(","), CLOUD_PARAMETERS["OpsAlertPhones"].split(",")
    assert subscribed == sorted([("email", e) for e in emails] + [("sms", p) for p in phones])
    key = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"]
    assert cloud.physical("AlertsKey") in key  # the stack's own key, not alias/aws/sns

    alarms = cloud.client("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]
    assert alarms and all(a["AlarmActions"] == [topic] for a in alarms)
    watched = {(a["Namespace"], a["MetricName"], d["Value"]) for a in alarms for d in a["Dimensions"]}
    for name, spec in cloud.translated["Resources"].items():
        if spec["Type"] == "AWS::Lambda::Function":
            function = cloud.physical(name)
            assert {("AWS/Lambda", "Errors", function), ("AWS/Lambda", "Throttles", function)} <= watched, name
    assert ("Opslayer", "WorkOrderEscalated", "test") in watched
    assert ("Opslayer", "StuckWorkOrders", "test") in watched
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "opslayer-test-scheduler-dlq") in watched

    schedule = cloud.client("scheduler").get_schedule(Name=cloud.physical("StuckSweepSchedule"))
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(":opslayer-test-scheduler-dlq")
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert cloud.fire_schedule("StuckSweepSchedule").error is None
    answer = cloud.client("lambda").invoke(FunctionName=cloud.physical("StuckSweepFunction"),
                                           Payload=json.dumps({"action": "sweep"}).encode())
    assert "FunctionError" not in answer and "stuck" in json.loads(answer["Payload"].read())


def test_real_template_state_machine_is_executable_with_substitutions(cloud: LocalCloud) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arn = cloud.outputs["StateMachineArn"]
    machine = stepfunctions_parser_backends[cloud.account_id][cloud.region].describe_state_machine(arn)
    definition = json.loads(machine.definition)
    assert "${" not in machine.definition
    resource_arn = definition["States"]["RankVendors"]["Parameters"]["FunctionName"]
    assert resource_arn.endswith(":function:opslayer-test-dispatch")
    assert definition["States"]["PageOnCall"]["Parameters"]["Entries"][0]["EventBusName"] == "opslayer-test"


def test_real_template_api_routes_come_from_the_template(cloud: LocalCloud) -> None:
    events = cloud.translated  # the API is the template's Api events, nothing else
    assert events is not None
    missing = cloud.invoke_api("GET", "/no/such/route")
    assert missing.status == 404
    assert missing.json()["error"] == "not_found"
    wrong_method = cloud.invoke_api("DELETE", "/vendor/jobs/abc/accept")
    assert wrong_method.status == 405
    assert wrong_method.headers["Allow"] == "POST"


def test_ses_identity_from_template_is_verified_and_outbox_lists_newest_first(cloud: LocalCloud) -> None:
    marker = uuid.uuid4().hex
    cloud.client("sns").publish(PhoneNumber="+15555550100", Message=f"sms {marker}")
    time.sleep(0.002)
    cloud.client("ses").send_email(
        Source="maintenance@example.com",
        Destination={"ToAddresses": ["tenant@example.com"]},
        Message={"Subject": {"Data": f"subject {marker}"}, "Body": {"Text": {"Data": f"email {marker}"}}},
    )
    mine = [m for m in cloud.outbox() if marker in str(m["body"])]
    assert [m["channel"] for m in mine] == ["email", "sms"]
    assert mine[0]["to"] == "tenant@example.com" and mine[0]["subject"] == f"subject {marker}"
    assert mine[1]["to"] == "+15555550100" and "subject" not in mine[1]
    assert all(m["sent_at"].endswith("Z") for m in mine)


def test_a_resource_nothing_creates_makes_start_fail() -> None:
    broken = LocalCloud(TEMPLATES / "unsupported.yaml", {"Stage": "broken"}, code_root=REPO_ROOT)
    with pytest.raises(DeployVerificationError) as failure:
        broken.start()
    assert [p.split(": ")[0] for p in failure.value.problems] == ["Nightly (AWS::Glue::Job)"]
    # The half-deployed stack was removed again.
    from moto.cloudformation.models import cloudformation_backends

    stacks = cloudformation_backends[broken.account_id][broken.region].stacks.values()
    assert [s.name for s in stacks if s.name == broken.stack_name] == []


# ----------------------------------------------------------------------------- SQS -> Lambda
def test_partial_batch_failure_redelivers_then_dead_letters(tiny: LocalCloud) -> None:
    tag = uuid.uuid4().hex
    sqs = tiny.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=tiny.physical("WorkQueue"),
                         MessageBody=json.dumps({"tag": tag, "n": n, "fail": n == 1}))
    def seen() -> list[tuple[int, str]]:
        return sorted((d["body"]["n"], d["record"]["attributes"]["ApproximateReceiveCount"])
                      for d in batch.deliveries_of(tag))

    # maxReceiveCount is 2: the failing record is seen twice (after its visibility timeout), the good ones
    # once. (A message waiting out its visibility timeout does not count as busy: wait on the outcome.)
    eventually(lambda: seen() == [(0, "1"), (1, "1"), (1, "2"), (2, "1")], timeout=15)
    record = batch.deliveries_of(tag)[0]["record"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":tiny-tiny-work")
    assert set(record) >= {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "awsRegion"}
    def dead_letters() -> list[int]:  # moved once its visibility timeout ends after the second failure
        dead = sqs.receive_message(QueueUrl=tiny.physical("WorkDLQ"), MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"])["n"] for m in dead if tag in m["Body"]]

    assert eventually(dead_letters, timeout=15) == [1]
    assert tiny.wait_idle(timeout=10)
    left = sqs.get_queue_attributes(QueueUrl=tiny.physical("WorkQueue"), AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "0" and left["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_delay_seconds_is_honoured(tiny: LocalCloud) -> None:
    tag = uuid.uuid4().hex
    sent = time.time()
    tiny.client("sqs").send_message(
        QueueUrl=tiny.physical("WorkQueue"), MessageBody=json.dumps({"tag": tag}), DelaySeconds=1
    )
    time.sleep(0.3)
    assert batch.deliveries_of(tag) == []
    delivered = eventually(lambda: batch.deliveries_of(tag), timeout=5)
    assert delivered[0]["at"] - sent >= 1.0


# ----------------------------------------------------------------------------- EventBridge
def test_eventbridge_rule_on_custom_bus_invokes_lambda_with_its_environment(tiny: LocalCloud) -> None:
    marker = uuid.uuid4().hex
    tiny.client("events").put_events(Entries=[{
        "Source": "tiny.direct", "DetailType": "Ping", "Detail": json.dumps({"marker": marker}),
        "EventBusName": tiny.outputs["BusName"],
    }])
    assert tiny.wait_idle(timeout=5), tiny.busy_reasons()
    hits = [r for r in recorder.records_for("tiny-tiny-recorder") if r["event"]["detail"].get("marker") == marker]
    assert len(hits) == 1
    assert hits[0]["env_marker"] == "recorder-tiny"
    assert 0 < hits[0]["remaining_ms"] <= 5000
    assert hits[0]["event"]["detail-type"] == "Ping"
    assert hits[0]["event"]["time"].endswith("Z")
    assert os.environ.get("MARKER") is None  # the function's environment never leaks into the process


def test_eventbridge_starts_state_machine_and_task_token_success_completes_it(tiny: LocalCloud) -> None:
    key = uuid.uuid4().hex
    tiny.client("events").put_events(Entries=[{
        "Source": "tiny.start", "DetailType": "Start", "EventBusName": tiny.outputs["BusName"],
        "Detail": json.dumps({"key": key, "timeout": 30, "limit": 3, "attempt": 0, "explode": False}),
    }])
    task_token = eventually(lambda: token.token_for(key))
    assert tiny.wait_idle(timeout=5), tiny.busy_reasons()  # waiting on a task token counts as idle
    sfn = tiny.client("stepfunctions")
    [execution] = [e for e in sfn.list_executions(stateMachineArn=tiny.outputs["MachineArn"])["executions"]
                   if key in sfn.describe_execution(executionArn=e["executionArn"])["input"]]
    assert execution["status"] == "RUNNING"

    sfn.send_task_success(taskToken=task_token, output=json.dumps({"accepted": True}))
    assert tiny.wait_idle(timeout=5), tiny.busy_reasons()
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["answer"] == {"accepted": True}
    assert output["attempt"] == 1 and output["label"] == f"job-{key}"  # States.MathAdd / States.Format
    # The machine's events:putEvents reached the custom bus and its Lambda target.
    announced = [r["event"] for r in recorder.records_for("tiny-tiny-recorder")
                 if r["event"]["detail"].get("key") == key]
    assert [e["detail-type"] for e in announced] == ["Answered"]


def start(tiny: LocalCloud, name: str | None = None, **fields: Any) -> tuple[str, str]:
    document = {"key": uuid.uuid4().hex, "timeout": 30, "limit": 3, "attempt": 0, "explode": False, **fields}
    kwargs = {"name": name} if name else {}
    arn = tiny.client("stepfunctions").start_execution(
        stateMachineArn=tiny.outputs["MachineArn"], input=json.dumps(document), **kwargs
    )["executionArn"]
    return arn, document["key"]


def finished(tiny: LocalCloud, arn: str, timeout: float = 5.0) -> dict[str, Any]:
    sfn = tiny.client("stepfunctions")
    return eventually(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, timeout)


@pytest.fixture
def frozen(tiny: LocalCloud) -> Iterator[LocalCloud]:
    """The tiny cloud with its (account/region-wide) clock frozen for the test, then as it was."""
    was_frozen = tiny.clock.frozen
    tiny.freeze_clock(tiny.clock_now().replace(microsecond=0))
    try:
        yield tiny
    finally:
        if not was_frozen:
            tiny.unfreeze_clock()


def sleeping_until(tiny: LocalCloud, arn: str, seconds: float) -> bool:
    """The execution is not in a step and a wait ends ``seconds`` from now on the local clock."""
    due = tiny.clock_now() + timedelta(seconds=seconds)
    return arn not in stepfunctions.busy_executions(tiny.account_id, tiny.region) and due in tiny.clock.wakeups()


def test_task_token_timeout_runs_on_the_local_clock_and_is_caught_as_states_timeout(frozen: LocalCloud) -> None:
    arn, key = start(frozen, timeout=3600)
    eventually(lambda: token.token_for(key) and sleeping_until(frozen, arn, 3600))
    frozen.advance_clock(3599)
    assert frozen.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING"
    frozen.advance_clock(1)
    described = finished(frozen, arn)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["outcome"] == "timed_out"
    assert output["timeout_error"]["Error"] == "States.Timeout"


WAITS_AND_HEARTBEAT = {
    "StartAt": "Seconds",
    "States": {
        "Seconds": {"Type": "Wait", "Seconds": 600, "Next": "SecondsPath"},
        "SecondsPath": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "TimestampPath"},
        "TimestampPath": {"Type": "Wait", "TimestampPath": "$.until", "Next": "Beat"},
        "Beat": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "${TokenFunctionArn}",
                           "Payload": {"key.$": "$.key", "token.$": "$$.Task.Token", "explode": False}},
            "TimeoutSeconds": 86400, "HeartbeatSeconds": 300, "End": True,
        },
    },
}


def test_wait_states_and_heartbeats_run_on_the_local_clock(frozen: LocalCloud) -> None:
    sfn = frozen.client("stepfunctions")
    definition = json.dumps(WAITS_AND_HEARTBEAT).replace("${TokenFunctionArn}", frozen.physical("TokenFunction"))
    machine = sfn.create_state_machine(name=f"clock-{uuid.uuid4().hex[:8]}", definition=definition,
                                       roleArn=f"arn:aws:iam::{frozen.account_id}:role/clock")["stateMachineArn"]
    key = uuid.uuid4().hex
    until = (frozen.clock_now() + timedelta(seconds=600 + 1200 + 3600)).strftime("%Y-%m-%dT%H:%M:%SZ")
    arn = sfn.start_execution(stateMachineArn=machine,
                              input=json.dumps({"key": key, "seconds": 1200, "until": until}))["executionArn"]

    def entered() -> list[str]:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    for state, seconds in (("Seconds", 600), ("SecondsPath", 1200), ("TimestampPath", 3600)):
        eventually(lambda state=state, seconds=seconds: entered()[-1:] == [state]
                   and sleeping_until(frozen, arn, seconds))
        frozen.advance_clock(seconds - 1)
        assert entered()[-1] == state, f"{state} ended early"
        frozen.advance_clock(1)
    task_token = eventually(lambda: token.token_for(key))
    eventually(lambda: sleeping_until(frozen, arn, 300))
    frozen.advance_clock(299)
    sfn.send_task_heartbeat(taskToken=task_token)  # a heartbeat in time starts the next 300 s
    eventually(lambda: sleeping_until(frozen, arn, 300))
    frozen.advance_clock(299)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    frozen.advance_clock(1)
    described = finished(frozen, arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")


def test_task_token_failure_and_handler_errors_reach_catch_by_error_type(tiny: LocalCloud) -> None:
    exploded, _ = start(tiny, explode=True)
    output = json.loads(finished(tiny, exploded)["output"])
    assert output["outcome"] == "handler_failed"
    assert output["error"]["Error"] == "ValueError"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "asked to explode"

    rejected, key = start(tiny)
    task_token = eventually(lambda: token.token_for(key))
    tiny.client("stepfunctions").send_task_failure(taskToken=task_token, error="Rejected", cause="no")
    described = finished(tiny, rejected)
    assert described["status"] == "FAILED"
    assert described["error"] == "Rejected"


def test_choice_numeric_less_than_path_takes_default_branch(tiny: LocalCloud) -> None:
    arn, _ = start(tiny, limit=1)
    assert json.loads(finished(tiny, arn)["output"])["outcome"] == "too_many"


def test_named_start_execution_is_idempotent_like_aws(tiny: LocalCloud) -> None:
    sfn = tiny.client("stepfunctions")
    name = f"wo-{uuid.uuid4().hex}"
    document = json.dumps({"key": name, "timeout": 30, "limit": 3, "attempt": 0, "explode": False})
    first = sfn.start_execution(stateMachineArn=tiny.outputs["MachineArn"], name=name, input=document)
    again = sfn.start_execution(stateMachineArn=tiny.outputs["MachineArn"], name=name, input=document)
    assert again["executionArn"] == first["executionArn"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=tiny.outputs["MachineArn"], name=name, input=json.dumps({"x": 1}))
    unnamed, _ = start(tiny)
    assert not unnamed.endswith(":None")
    sfn.stop_execution(executionArn=unnamed)


def test_stop_execution_aborts_a_task_token_wait_at_once(tiny: LocalCloud) -> None:
    arn, key = start(tiny, timeout=30)
    eventually(lambda: token.token_for(key))
    sfn = tiny.client("stepfunctions")
    sfn.stop_execution(executionArn=arn, error="Cancelled", cause="ops")
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert tiny.wait_idle(timeout=5), tiny.busy_reasons()
    time.sleep(0.05)
    # The interrupted wait did not take the States.Timeout catch after the stop.
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    history = sfn.get_execution_history(executionArn=arn)["events"]
    assert not [e for e in history if e.get("stateEnteredEventDetails", {}).get("name") == "TimedOut"]


# ----------------------------------------------------------------------------- API
def test_api_event_is_a_rest_proxy_event_built_from_the_template_path(tiny: LocalCloud) -> None:
    response = tiny.invoke_api(
        "POST", "/items/it%2042/tags?tag=a&tag=b&single=1",
        headers={"X-Trace": "t1", "Content-Type": "application/json"}, body={"hello": "world"},
    )
    assert response.status == 201
    assert response.headers["X-Seen"] == "a, b"
    event = response.json()["event"]
    assert event["resource"] == "/items/{id}/tags"
    assert event["requestContext"]["resourcePath"] == "/items/{id}/tags"
    assert event["path"] == "/items/it%2042/tags"
    assert event["pathParameters"] == {"id": "it 42"}
    assert event["queryStringParameters"] == {"tag": "b", "single": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "single": ["1"]}
    assert event["headers"]["X-Trace"] == "t1"
    assert json.loads(event["body"]) == {"hello": "world"} and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "Prod" and context["httpMethod"] == "POST"
    assert context["path"] == "/Prod/items/it%2042/tags"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert isinstance(context["requestTimeEpoch"], int) and context["requestId"]

    greedy = tiny.invoke_api("GET", "/files/a/b/c.txt").json()["event"]
    assert greedy["resource"] == "/files/{path+}" and greedy["pathParameters"] == {"path": "a/b/c.txt"}
    binary = tiny.invoke_api("GET", "/items/upload", body=b"\xff\x00")
    assert binary.json()["event"]["isBase64Encoded"] is True


def test_api_errors_look_like_api_gateway(tiny: LocalCloud) -> None:
    assert tiny.invoke_api("GET", "/items/boom").status == 502
    assert tiny.invoke_api("GET", "/items/binary").body == b"\x00\xffbin"
    assert tiny.invoke_api("POST", "/items/1").status == 405
    assert tiny.invoke_api("GET", "/nothing").json() == {"error": "not_found", "message": "No route for GET /nothing"}


def test_serve_api_over_http_with_local_extra_routes(tiny: LocalCloud) -> None:
    server = tiny.serve_api(port=0, extra_routes={
        ("GET", "/_local/ping"): lambda request: (200, {"Content-Type": "text/plain"}, "pong"),
    })
    try:
        with urllib.request.urlopen(f"{server.url}/items/7?x=1") as response:
            event = json.loads(response.read())["event"]
        assert event["pathParameters"] == {"id": "7"} and event["queryStringParameters"] == {"x": "1"}
        with urllib.request.urlopen(f"{server.url}/_local/ping") as response:
            assert response.read() == b"pong"
    finally:
        server.shutdown()


# ----------------------------------------------------------------------------- env overlay
def test_env_overlay_is_per_context_not_per_process() -> None:
    seen: dict[str, str | None] = {}
    inside = threading.Event()
    release = threading.Event()

    def other_thread() -> None:
        inside.wait(2)
        seen["other"] = os.environ.get("LOCALCLOUD_PROBE")
        release.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with overlay({"LOCALCLOUD_PROBE": "mine"}):
        inside.set()
        release.wait(2)
        seen["mine"] = os.environ.get("LOCALCLOUD_PROBE")
        os.environ["LOCALCLOUD_WRITTEN"] = "stays inside"
    worker.join()
    assert seen == {"other": None, "mine": "mine"}
    assert "LOCALCLOUD_WRITTEN" not in os.environ


# ----------------------------------------------------------------------------- server mode
def test_server_mode_serves_boto3_and_handlers_use_the_endpoint() -> None:
    server_cloud = LocalCloud(TEMPLATES / "tiny.yaml", {"Stage": "srv"}, code_root=REPO_ROOT, server_port=0)
    server_cloud.start()
    try:
        assert server_cloud.endpoint_url and server_cloud.endpoint_url.startswith("http://127.0.0.1:")
        env = env_for(server_cloud)
        assert env["AWS_ENDPOINT_URL"] == server_cloud.endpoint_url
        queues = server_cloud.client("sqs").list_queues(QueueNamePrefix="tiny-srv")["QueueUrls"]
        assert sorted(q.rsplit("/", 1)[-1] for q in queues) == ["tiny-srv-work", "tiny-srv-work-dlq"]
        assert all(q.startswith(server_cloud.endpoint_url) for q in queues)

        marker = uuid.uuid4().hex
        result = server_cloud.client("lambda").invoke(
            FunctionName="tiny-srv-relay", Payload=json.dumps({"marker": marker}).encode()
        )
        assert json.loads(result["Payload"].read())["endpoint"] == server_cloud.endpoint_url
        assert server_cloud.wait_idle(timeout=5)
        relayed = [r for r in recorder.records_for("tiny-srv-recorder")
                   if r["event"]["detail"].get("marker") == marker]
        assert [r["event"]["detail-type"] for r in relayed] == ["Relayed"]
    finally:
        server_cloud.stop()


def test_failed_transaction_rolls_back_only_what_it_touched(cloud: LocalCloud) -> None:
    db = cloud.client("dynamodb")
    table = cloud.physical("Table")
    db.put_item(TableName=table, Item={"PK": {"S": "TX#keep"}, "SK": {"S": "A"}, "n": {"N": "1"}})
    with pytest.raises(db.exceptions.TransactionCanceledException):
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"PK": {"S": "TX#new"}, "SK": {"S": "A"}}}},
            {"Update": {"TableName": table, "Key": {"PK": {"S": "TX#keep"}, "SK": {"S": "A"}},
                        "UpdateExpression": "SET n = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"PK": {"S": "TX#keep"}, "SK": {"S": "B"}},
                                "ConditionExpression": "attribute_exists(PK)"}},
        ])
    assert "Item" not in db.get_item(TableName=table, Key={"PK": {"S": "TX#new"}, "SK": {"S": "A"}})
    kept = db.get_item(TableName=table, Key={"PK": {"S": "TX#keep"}, "SK": {"S": "A"}})["Item"]
    assert kept["n"] == {"N": "1"}
    db.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"PK": {"S": "TX#new"}, "SK": {"S": "A"}}}}])
    assert "Item" in db.get_item(TableName=table, Key={"PK": {"S": "TX#new"}, "SK": {"S": "A"}})


def test_index_queries_and_scans_see_every_kind_of_write_in_key_order(cloud: LocalCloud) -> None:
    """The sorted item list kept between writes (patches/dynamodb.py) never answers with a stale table."""
    db = cloud.client("dynamodb")
    table = cloud.physical("Table")
    tag = uuid.uuid4().hex[:8]
    index_key = f"IDX#{tag}"

    def item(pk: str, sk: str, **extra: str) -> dict[str, Any]:
        return {"PK": {"S": f"IDX{tag}#{pk}"}, "SK": {"S": sk}, "GSI1PK": {"S": index_key}, "GSI1SK": {"S": sk},
                **{k: {"S": v} for k, v in extra.items()}}

    def indexed() -> list[tuple[str, str]]:
        found = db.query(TableName=table, IndexName="GSI1", KeyConditionExpression="GSI1PK = :k",
                         ExpressionAttributeValues={":k": {"S": index_key}})["Items"]
        assert all(set(i) == {"PK", "SK", "GSI1PK", "GSI1SK"} for i in found)  # the index projects keys only
        # ... so an entry's other attributes are read from the table, as the repository does
        items = [db.get_item(TableName=table, Key={"PK": i["PK"], "SK": i["SK"]}).get("Item", {}) for i in found]
        return [(i["GSI1SK"]["S"], item.get("note", {}).get("S", "")) for i, item in zip(found, items, strict=True)]

    def scanned() -> list[str]:
        pages = db.get_paginator("scan").paginate(TableName=table, FilterExpression="GSI1PK = :k",
                                                  ExpressionAttributeValues={":k": {"S": index_key}})
        return [i["PK"]["S"] for page in pages for i in page["Items"]]

    assert indexed() == []
    db.put_item(TableName=table, Item=item("b", "2"))
    db.put_item(TableName=table, Item=item("a", "3"))
    assert indexed() == [("2", ""), ("3", "")] and indexed() == [("2", ""), ("3", "")]  # read twice: kept
    db.update_item(TableName=table, Key={"PK": {"S": f"IDX{tag}#b"}, "SK": {"S": "2"}},
                   UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "updated"}})
    assert indexed() == [("2", "updated"), ("3", "")]
    db.update_item(TableName=table, Key={"PK": {"S": f"IDX{tag}#c"}, "SK": {"S": "1"}},  # an update that creates
                   UpdateExpression="SET GSI1PK = :k, GSI1SK = :s",
                   ExpressionAttributeValues={":k": {"S": index_key}, ":s": {"S": "1"}})
    assert [sk for sk, _ in indexed()] == ["1", "2", "3"]
    db.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item("d", "4")}},
                                              {"DeleteRequest": {"Key": {"PK": {"S": f"IDX{tag}#a"},
                                                                         "SK": {"S": "3"}}}}]})
    assert [sk for sk, _ in indexed()] == ["1", "2", "4"]
    db.transact_write_items(TransactItems=[
        {"Delete": {"TableName": table, "Key": {"PK": {"S": f"IDX{tag}#c"}, "SK": {"S": "1"}}}},
        {"Put": {"TableName": table, "Item": item("e", "0")}}])
    assert [sk for sk, _ in indexed()] == ["0", "2", "4"]
    db.delete_item(TableName=table, Key={"PK": {"S": f"IDX{tag}#d"}, "SK": {"S": "4"}})
    assert [sk for sk, _ in indexed()] == ["0", "2"]
    assert scanned() == sorted(scanned()) == [f"IDX{tag}#b", f"IDX{tag}#e"]  # a scan walks the keys in order
