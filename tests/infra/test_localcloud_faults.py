"""The local cloud's fault injection (infra/localcloud/faults.py) on a bare moto: errors as each protocol answers
them, consumed as they fire, seen by the SDK's retries; the suite that uses it is tests/integration/test_faults.py."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.localcloud.faults import injector
from infra.localcloud.patches import apply_all


@pytest.fixture
def aws() -> Iterator[None]:
    apply_all()
    injector.clear()
    with mock_aws():
        yield
    injector.clear()


def _client(service: str, retries: int = 0):
    return boto3.client(service, region_name="us-east-1",
                        config=Config(retries={"mode": "standard", "max_attempts": retries}))


def test_a_json_protocol_error_fires_as_often_as_armed_and_only_where_it_matches(aws):
    db = _client("dynamodb")
    db.create_table(TableName="t", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    fault = injector.aws("dynamodb", "PutItem", "ProvisionedThroughputExceededException", times=2,
                         when=lambda params: params["Item"]["PK"]["S"] == "mine")
    db.put_item(TableName="t", Item={"PK": {"S": "other"}})  # not matched: not faulted
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            db.put_item(TableName="t", Item={"PK": {"S": "mine"}})
        assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    db.put_item(TableName="t", Item={"PK": {"S": "mine"}})  # spent
    assert fault.spent and injector.fired == ["dynamodb.PutItem ProvisionedThroughputExceededException"] * 2


def test_the_sdk_retries_absorb_a_throttle_shorter_than_its_attempts(aws):
    injector.aws("sns", "Publish", "Throttling", times=1)
    sns = _client("sns", retries=1)
    assert sns.publish(PhoneNumber="+15550100000", Message="hi")["MessageId"]


def test_a_query_protocol_error_parses_as_the_service_would_answer_it(aws):
    injector.aws("ses", "SendEmail", "MessageRejected", message="Email address is not verified")
    with pytest.raises(ClientError) as raised:
        _client("ses").send_email(Source="a@example.com", Destination={"ToAddresses": ["b@example.com"]},
                                  Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
    assert raised.value.response["Error"] == {"Type": "Sender", "Code": "MessageRejected",
                                              "Message": "Email address is not verified"}
    injector.clear()
    assert injector.fired == []


def test_a_streamed_upload_passes_while_a_fault_is_armed_and_can_be_faulted_itself(aws):
    # Found by the money steps' fault scenarios: an S3 upload's body is a stream, not bytes, and the injector
    # failed every upload made while any fault was armed.
    s3 = _client("s3")
    s3.create_bucket(Bucket="fault-uploads")
    injector.aws("dynamodb", "PutItem", "ProvisionedThroughputExceededException")
    s3.put_object(Bucket="fault-uploads", Key="k", Body=b"%PDF-1.4", ContentType="application/pdf")
    assert s3.get_object(Bucket="fault-uploads", Key="k")["Body"].read() == b"%PDF-1.4"
    injector.aws("s3", "PutObject", "SlowDown", status=503)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket="fault-uploads", Key="k2", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "SlowDown"
