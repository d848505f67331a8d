"""The template is the single source of truth: check the rules it must keep (routes, logs, DLQs, IAM, ASL)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}


def test_template_api_events_and_chalice_routes_are_identical():
    from tests.lambda_modules import every_setting, fresh_import

    with fresh_import("functions.api.app", every_setting()) as module:  # the handler checks its settings
        routes = {(path, method) for path, entries in module.app.routes.items() for method in entries}
    events = {(e["Properties"]["Path"], e["Properties"]["Method"].upper())
              for e in RESOURCES["ApiFunction"]["Properties"]["Events"].values() if e["Type"] == "Api"}
    assert routes == events


def test_ops_routes_are_iam_authorized_and_public_ones_are_not():
    for event in RESOURCES["ApiFunction"]["Properties"]["Events"].values():
        props = event["Properties"]
        is_ops = props["Path"].startswith("/ops/")
        assert (props.get("Auth", {}).get("Authorizer") == "AWS_IAM") == is_ops, props["Path"]


def test_every_function_logs_to_its_own_log_group_with_retention():
    used = set()
    for name, fn in FUNCTIONS.items():
        group = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup", name
        assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        used.add(group)
    assert len(used) == len(FUNCTIONS)


def test_every_queue_has_a_dead_letter_queue():
    queues = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"}
    for name, queue in queues.items():
        if name.endswith("DLQ"):
            continue
        target = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
        assert json.dumps(target).find(f"{name.removesuffix('Queue')}DLQ") >= 0, name


def _statements(policies):
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            yield from policy["Statement"]


@pytest.mark.parametrize("name", [*sorted(FUNCTIONS), "WorkOrderStateMachine"])
def test_no_wildcard_actions_and_scoped_data_access(name):
    policies = RESOURCES[name]["Properties"].get("Policies", [])
    for stmt in _statements(policies):
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        assert all(a != "*" and not a.endswith(":*") for a in actions), (name, actions)
        if any(a.startswith("dynamodb:") for a in actions):
            assert "dynamodb:Scan" not in actions and stmt["Resource"] != "*"


def test_table_is_encrypted_recoverable_and_retained():
    table = RESOURCES["Table"]
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"  # kept on stack deletion; a failed first create rolls back
    props = table["Properties"]
    assert props["SSESpecification"]["SSEType"] == "KMS" and props["SSESpecification"]["KMSMasterKeyId"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_asl_uses_only_substitutions_and_every_one_is_provided():
    sm = RESOURCES["WorkOrderStateMachine"]["Properties"]
    text = (ROOT / sm["DefinitionUri"]).read_text()
    assert not re.search(r"arn:aws:(lambda|events|sqs|sns|dynamodb):", text), "hard-coded ARN in the ASL"
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    assert placeholders == set(sm["DefinitionSubstitutions"])
    asl = json.loads(text)
    waits = {n: s for n, s in asl["States"].items() if s.get("Resource", "").endswith(".waitForTaskToken")}
    # Waits for people time out by the priority's timers and catch it (a reminder, the next vendor, escalation);
    # the triage step answers its own wait, so its timeout is a failure like any other (RecordFailure).
    assert waits.pop("Triage")["TimeoutSeconds"] <= 900
    assert waits and all("TimeoutSecondsPath" in s and any("States.Timeout" in c["ErrorEquals"] for c in s["Catch"])
                         for s in waits.values())
    tasks = [s for s in asl["States"].values() if s["Type"] == "Task"]
    assert all(s.get("Retry") for s in tasks)


def test_tracing_on_everywhere():
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == "Active"
    assert RESOURCES["WorkOrderStateMachine"]["Properties"]["Tracing"]["Enabled"] is True
    assert RESOURCES["Api"]["Properties"]["TracingEnabled"] is True


@pytest.mark.parametrize("name", ["PhotosBucket", "InboundEmailBucket"])
def test_buckets_are_encrypted_private_and_tls_only(name):
    props = RESOURCES[name]["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    policy = next(r for r in RESOURCES.values() if r["Type"] == "AWS::S3::BucketPolicy"
                  and r["Properties"]["Bucket"] == {"Ref": name})
    deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert props["LifecycleConfiguration"]["Rules"]


def test_unchecked_uploads_expire_and_only_uploads_are_checked():
    photos = RESOURCES["PhotosBucket"]["Properties"]
    assert {"Prefix": "uploads/", "ExpirationInDays": 1}.items() <= photos["LifecycleConfiguration"]["Rules"][0].items()
    assert photos["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    pattern = RESOURCES["PhotoCheckFunction"]["Properties"]["Events"]["PhotoUploaded"]["Properties"]["Pattern"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]


def test_inbound_mail_is_stored_before_the_function_runs_and_only_ses_may_invoke_it():
    rule = RESOURCES["InboundEmailRule"]["Properties"]["Rule"]
    assert [next(iter(a)) for a in rule["Actions"]] == ["S3Action", "LambdaAction"]
    assert rule["ScanEnabled"] is True and rule["TlsPolicy"] == "Require"
    permission = RESOURCES["EmailInboundSesPermission"]["Properties"]
    assert permission["Principal"] == "ses.amazonaws.com" and permission["SourceAccount"]


# ---------------------------------------------------------------- alerts that reach people
ALARMS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def _alarms_on(namespace: str, metric: str) -> list[dict]:
    return [a for a in ALARMS.values() if a.get("Namespace") == namespace and a.get("MetricName") == metric]


def _dimension(alarm: dict, name: str):
    return next(d["Value"] for d in alarm["Dimensions"] if d["Name"] == name)


def test_every_alarm_notifies_the_ops_alerts_topic():
    assert ALARMS
    for name, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == [{"Ref": "OpsAlertsTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_its_errors_and_throttles_alarm(metric):
    watched = {_dimension(a, "FunctionName")["Ref"] for a in _alarms_on("AWS/Lambda", metric)}
    assert watched == set(FUNCTIONS)


def test_every_dead_letter_queue_has_its_depth_alarm():
    dlqs = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue" and k.endswith("DLQ")}
    watched = {_dimension(a, "QueueName")["Fn::GetAtt"][0]
               for a in _alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert dlqs and watched == dlqs


def test_escalations_stuck_jobs_failed_executions_and_api_errors_are_alarmed():
    from shared.services.stuck import STUCK_METRIC
    from shared.services.writes import ALARMED_EVENTS

    for metric in (*ALARMED_EVENTS, STUCK_METRIC):  # emitted by observability.alarm_count: dimension Stage only
        [alarm] = _alarms_on("Opslayer", metric)
        assert alarm["Dimensions"] == [{"Name": "Stage", "Value": {"Ref": "Stage"}}]
    [failed] = _alarms_on("AWS/States", "ExecutionsFailed")
    assert _dimension(failed, "StateMachineArn") == {"Ref": "WorkOrderStateMachine"}
    [api] = _alarms_on("AWS/ApiGateway", "5XXError")
    assert _dimension(api, "ApiName") == RESOURCES["Api"]["Properties"]["Name"]
    assert _dimension(api, "Stage") == RESOURCES["Api"]["Properties"]["StageName"]


def test_every_schedule_retries_and_dead_letters_to_an_alarmed_queue():
    schedules = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::Scheduler::Schedule"}
    assert {"ReconcileSchedule", "PreventiveSchedule", "StuckSweepSchedule"} <= set(schedules)
    role_statements = RESOURCES["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    for name, schedule in schedules.items():
        target = schedule["Target"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["SchedulerDLQ", "Arn"]}}, name
        assert target["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}, name
    assert any(s["Action"] == "sqs:SendMessage" and s["Resource"] == {"Fn::GetAtt": ["SchedulerDLQ", "Arn"]}
               for s in role_statements)


def test_the_alerts_topic_has_a_rotated_customer_key_cloudwatch_may_use():
    topic = RESOURCES["OpsAlertsTopic"]["Properties"]
    key = RESOURCES[topic["KmsMasterKeyId"]["Ref"]]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Effect"] == "Allow"
                  and s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])


def test_alert_subscriptions_one_slot_per_listed_address_the_first_email_required():
    subscriptions = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::SNS::Subscription"
                     and v["Properties"]["TopicArn"] == {"Ref": "OpsAlertsTopic"}}
    by_protocol: dict[str, list[tuple[int, str | None, str]]] = {}
    for sub in subscriptions.values():
        index, split = sub["Properties"]["Endpoint"]["Fn::Select"]
        parameter = split["Fn::Split"][1]["Fn::Join"][1][0]["Ref"]
        by_protocol.setdefault(sub["Properties"]["Protocol"], []).append((index, sub.get("Condition"), parameter))
    assert sorted(by_protocol["email"]) == [(0, None, "OpsAlertEmails"), (1, "HasOpsAlertEmail2", "OpsAlertEmails"),
                                            (2, "HasOpsAlertEmail3", "OpsAlertEmails")]
    assert sorted(by_protocol["sms"]) == [(i, f"HasOpsAlertPhone{i + 1}", "OpsAlertPhones") for i in range(3)]
    for _, condition, parameter in by_protocol["email"][1:] + by_protocol["sms"]:
        if condition:  # the condition tests the same slot of the same (comma-padded) list
            test = TEMPLATE["Conditions"][condition]["Fn::Not"][0]["Fn::Equals"]
            assert test[1] == "" and test[0]["Fn::Select"][1]["Fn::Split"][1]["Fn::Join"][1][0] == {"Ref": parameter}
    parameters = TEMPLATE["Parameters"]
    assert "Default" not in parameters["OpsAlertEmails"]  # a deploy without anyone to alert fails
    assert parameters["OpsAlertPhones"]["Default"] == ""


@pytest.mark.parametrize(("listed", "ok"), [("ops@x.io", True), ("a@x.io,b@x.io,c@x.io", True), ("", False),
                                             ("a@x.io,b@x.io,c@x.io,d@x.io", False), ("a@x.io, b@x.io", False)])
def test_ops_alert_emails_one_to_three(listed, ok):
    assert bool(re.fullmatch(TEMPLATE["Parameters"]["OpsAlertEmails"]["AllowedPattern"], listed)) is ok


@pytest.mark.parametrize(("listed", "ok"), [("", True), ("+15550100009", True), ("+15550100009,+442071838750", True),
                                             ("5550100009", False),
                                             ("+15550100001,+15550100002,+15550100003,+15550100004", False)])
def test_ops_alert_phones_zero_to_three_e164(listed, ok):
    assert bool(re.fullmatch(TEMPLATE["Parameters"]["OpsAlertPhones"]["AllowedPattern"], listed)) is ok


def test_the_slot_conditions_match_the_subscription_endpoints():
    for name, spec in RESOURCES.items():
        if spec["Type"] == "AWS::SNS::Subscription" and "Condition" in spec:
            condition = TEMPLATE["Conditions"][spec["Condition"]]["Fn::Not"][0]["Fn::Equals"][0]
            assert condition == spec["Properties"]["Endpoint"], name
