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
    assert table["DeletionPolicy"] == "Retain"
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
    waits = [s for s in asl["States"].values() if s.get("Resource", "").endswith(".waitForTaskToken")]
    assert waits and all("TimeoutSecondsPath" in s and any("States.Timeout" in c["ErrorEquals"] for c in s["Catch"])
                         for s in waits)
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
