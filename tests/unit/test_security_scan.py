"""What `make checkov` enforces, and what it cannot see: every suppression carries its reason, the data key
covers the logs and the queues (and whoever writes to those queues may use it), every asynchronously invoked
function keeps its failed events, and the API's access log never records a link token. The scan itself runs in
`make test` (docs/deploy.md, "Security scanning"); these checks read the template only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
RESOURCES: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
DATA_KEY_ARN = {"Fn::GetAtt": ["DataKey", "Arn"]}
ASYNC_EVENT_TYPES = {"EventBridgeRule", "CloudWatchEvent", "SNS", "S3", "Schedule", "ScheduleV2"}


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == resource_type}


FUNCTIONS = of_type("AWS::Serverless::Function")


def skips(resource: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["comment"] for s in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in function["Properties"].get("Policies", []) if isinstance(p, dict)
            for s in as_list(p.get("Statement", []))]


def asynchronously_invoked() -> set[str]:
    """Functions that Lambda invokes asynchronously: an event source of an asynchronous kind, a Scheduler
    target (a schedule's target or a scheduler role's invoke grant, which one-time schedules use), SES."""
    found = {name for name, f in FUNCTIONS.items()
             if any(e["Type"] in ASYNC_EVENT_TYPES for e in f["Properties"].get("Events", {}).values())}
    by_name = {f["Properties"]["FunctionName"]["Fn::Sub"].replace("${Stage}", ""): name
               for name, f in FUNCTIONS.items()}
    for role in of_type("AWS::IAM::Role").values():
        principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        if principal.get("Service") != "scheduler.amazonaws.com":
            continue
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Action"] != "lambda:InvokeFunction":
                    continue
                for resource in as_list(statement["Resource"]):
                    if "Fn::GetAtt" in resource:
                        found.add(resource["Fn::GetAtt"][0])
                    else:  # by name: arn:...:function:opslayer-${Stage}-<name>
                        found.add(by_name[resource["Fn::Sub"].rsplit(":", 1)[1].replace("${Stage}", "")])
    for rule in of_type("AWS::SES::ReceiptRule").values():
        for action in rule["Properties"]["Rule"]["Actions"]:
            if "LambdaAction" in action:
                found.add(action["LambdaAction"]["FunctionArn"]["Fn::GetAtt"][0])
    return found


def test_every_suppression_names_a_check_and_gives_a_one_line_reason() -> None:
    suppressed = {name: skips(r) for name, r in RESOURCES.items() if skips(r)}
    assert suppressed, "the template has no suppressions: is the Metadata still read?"
    for name, reasons in suppressed.items():
        for check, reason in reasons.items():
            assert check.startswith("CKV_AWS_"), f"{name}: {check}"
            assert 20 <= len(reason) <= 160 and "\n" not in reason, f"{name} {check}: one line of reason"


def test_the_log_groups_and_the_queues_are_under_the_data_key() -> None:
    for name, group in of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"].get("KmsKeyId") == DATA_KEY_ARN, name
    for name, queue in of_type("AWS::SQS::Queue").items():
        assert queue["Properties"].get("KmsMasterKeyId") == {"Ref": "DataKey"}, name
    policy = RESOURCES["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = {str(s["Principal"].get("Service")) for s in policy}
    assert {str({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}), "events.amazonaws.com"} <= services


def grants_the_data_key(statement_list: list[dict[str, Any]]) -> bool:
    return any(s.get("Resource") == DATA_KEY_ARN and "kms:GenerateDataKey" in as_list(s["Action"])
               for s in statement_list)


def test_whoever_writes_to_an_encrypted_queue_may_use_the_data_key() -> None:
    """The local cloud does not enforce KMS: a producer without the key would only fail on AWS."""
    for name, function in FUNCTIONS.items():
        sends = "DeadLetterQueue" in function["Properties"] or any(
            "sqs:SendMessage" in as_list(s["Action"]) for s in statements(function))
        if sends:
            assert grants_the_data_key(statements(function)), f"{name} sends to a queue without the data key"
    for name, role in of_type("AWS::IAM::Role").items():
        role_statements = [s for p in role["Properties"].get("Policies", [])
                           for s in p["PolicyDocument"]["Statement"]]
        if any("sqs:SendMessage" in as_list(s["Action"]) for s in role_statements):
            assert grants_the_data_key(role_statements), f"{name} sends to a queue without the data key"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_an_asynchronously_invoked_function_keeps_its_failed_events(name: str) -> None:
    props = FUNCTIONS[name]["Properties"]
    if name in asynchronously_invoked():
        assert props.get("DeadLetterQueue") == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["AsyncInvokeDLQ", "Arn"]}}
    else:
        assert "DeadLetterQueue" in props or "CKV_AWS_116" in skips(FUNCTIONS[name]), name


def test_the_api_access_log_is_json_and_never_records_a_link_token() -> None:
    setting = RESOURCES["Api"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    line = json.loads(setting["Format"])
    assert line["route"] == "$context.resourcePath"  # /t/{token}, not the token
    assert not any(value in {"$context.path", "$context.requestOverride.path"} for value in line.values())
