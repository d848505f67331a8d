"""The IAM audit's two halves: the actions an AWS request needs, and the actions a function's role allows (the
session's local cloud checks every handler's calls with them: tests/conftest.py)."""

from __future__ import annotations

import json

from infra.localcloud.iam_audit import allowed, iam_actions


def test_a_request_needs_the_iam_action_of_its_operation_with_the_services_iam_prefix() -> None:
    assert iam_actions("before-send.dynamodb.GetItem", None) == ["dynamodb:GetItem"]
    assert iam_actions("before-send.sfn.SendTaskSuccess", None) == ["states:SendTaskSuccess"]
    assert iam_actions("before-send.eventbridge.PutEvents", None) == ["events:PutEvents"]
    assert iam_actions("before-send.secrets-manager.GetSecretValue", None) == ["secretsmanager:GetSecretValue"]
    assert iam_actions("before-send.s3.HeadObject", None) == ["s3:GetObject"]
    assert iam_actions("before-send.s3.CopyObject", None) == ["s3:GetObject", "s3:PutObject"]


def test_a_transaction_needs_the_action_of_each_kind_of_item_it_writes() -> None:
    body = json.dumps({"TransactItems": [{"Put": {}}, {"Update": {}}, {"Update": {}}, {"ConditionCheck": {}}]})
    assert iam_actions("before-send.dynamodb.TransactWriteItems", body) == [
        "dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]


def test_a_role_allows_its_inline_and_attached_statements_and_the_managed_policies_sam_adds() -> None:
    translated = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
        "FnRole": {"Type": "AWS::IAM::Role", "Properties": {
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            "Policies": [{"PolicyName": "p0", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:GetItem", "states:SendTask*"], "Resource": "*"},
                {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]}}]}},
        "Extra": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "FnRole"}],
            "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}}}},
        "Other": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "OtherRole"}],
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}}}}}
    patterns = allowed(translated, "Fn")
    assert set(patterns) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                             "dynamodb:GetItem", "states:SendTask*", "kms:Decrypt"}
