"""The IAM audit's two halves: what an AWS request needs (its IAM actions and resources), and whether a role's
statements allow it (the session's local cloud checks every handler's calls with them: tests/conftest.py)."""

from __future__ import annotations

import json

from infra.localcloud.iam_audit import needs, permits

TABLE = "arn:aws:dynamodb:r:1:table/t"


def test_a_request_needs_its_operations_action_on_the_resource_it_names() -> None:
    assert needs("before-send.dynamodb.GetItem", "", json.dumps({"TableName": "t"}), region="r", account="1") == [
        ("dynamodb:GetItem", TABLE)]
    assert needs("before-send.dynamodb.Query", "", json.dumps({"TableName": "t", "IndexName": "GSI1"}),
                 region="r", account="1") == [("dynamodb:Query", f"{TABLE}/index/GSI1")]
    assert needs("before-send.sqs.SendMessageBatch", "", json.dumps({"QueueUrl": "https://sqs.r.amazonaws.com/1/q"}),
                 region="r") == [("sqs:SendMessage", "arn:aws:sqs:r:1:q")]
    assert needs("before-send.s3.HeadObject", "https://b.s3.amazonaws.com/k/1.jpg", None) == [
        ("s3:GetObject", "arn:aws:s3:::b/k/1.jpg")]
    assert needs("before-send.s3.CopyObject", "https://b.s3.amazonaws.com/checked/1.jpg", None,
                 {"x-amz-copy-source": b"b/uploads/1.jpg"}) == [
        ("s3:GetObject", "arn:aws:s3:::b/uploads/1.jpg"), ("s3:PutObject", "arn:aws:s3:::b/checked/1.jpg")]
    assert needs("before-send.sns.Publish", "", "Action=Publish&PhoneNumber=%2B15550100&Message=x") == [
        ("sns:Publish", "*")]  # a text to a phone number has no ARN: only Resource "*" allows it
    assert needs("before-send.sfn.SendTaskSuccess", "", json.dumps({"taskToken": "t", "output": "{}"})) == [
        ("states:SendTaskSuccess", "*")]
    assert needs("before-send.eventbridge.PutEvents", "", json.dumps({"Entries": [{"EventBusName": "bus"}]}),
                 region="r", account="1") == [("events:PutEvents", "arn:aws:events:r:1:event-bus/bus")]
    assert needs("before-send.secrets-manager.GetSecretValue", "", json.dumps({"SecretId": "arn:aws:x"})) == [
        ("secretsmanager:GetSecretValue", "arn:aws:x")]
    assert needs("before-send.iot.Publish", "", None) == [("iot:Publish", None)]  # not derived: the action alone


def test_a_transaction_needs_each_items_action_on_its_table() -> None:
    body = json.dumps({"TransactItems": [{"Put": {"TableName": "t"}}, {"Update": {"TableName": "t"}},
                                         {"Update": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "u"}}]})
    assert needs("before-send.dynamodb.TransactWriteItems", "", body, region="r", account="1") == [
        ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:r:1:table/u"), ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE)]


def test_a_role_allows_an_action_on_a_resource_only_where_one_allow_statement_names_both() -> None:
    statements = [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": [TABLE]},
                  {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{TABLE}/index/*"},
                  {"Effect": "Allow", "Action": "states:SendTask*", "Resource": "*"},
                  {"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:r:1:alerts"},
                  {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]
    assert permits(statements, "dynamodb:GetItem", TABLE)
    assert permits(statements, "dynamodb:Query", f"{TABLE}/index/GSI2")
    assert not permits(statements, "dynamodb:GetItem", f"{TABLE}/index/GSI2")  # the index needs its own grant
    assert not permits(statements, "dynamodb:PutItem", TABLE)
    assert permits(statements, "states:SendTaskFailure", "*")
    assert permits(statements, "sns:Publish", "arn:aws:sns:r:1:alerts")
    assert not permits(statements, "sns:Publish", "*")  # a topic's grant does not cover texts to phones
    assert not permits(statements, "dynamodb:DeleteItem", TABLE)  # a Deny allows nothing
    assert permits(statements, "dynamodb:Query", None)  # resource not derived: the action alone
