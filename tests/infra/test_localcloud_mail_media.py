"""The local cloud's S3 and SES receiving: a bucket's EventBridge notifications reach a rule on the
default bus, and a receipt rule's actions (S3, then Lambda) run for a received message. A tiny template
and the recorder handler: nothing here depends on the project's own handlers."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from infra.localcloud import LocalCloud
from tests.infra.handlers import recorder
from tests.infra.test_localcloud import REPO_ROOT, TEMPLATES, eventually

pytestmark = pytest.mark.integration
FUNCTION = "tiny-media-recorder"


@pytest.fixture(scope="module")
def media() -> Iterator[LocalCloud]:
    local = LocalCloud(TEMPLATES / "mail_media.yaml", {"Stage": "media"}, code_root=REPO_ROOT)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def test_bucket_properties_come_from_the_template(media: LocalCloud) -> None:
    s3, bucket = media.client("s3"), media.outputs["BucketName"]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Filter"] == {"Prefix": "incoming/"} and rule["Expiration"] == {"Days": 2}
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging == {"TargetBucket": "tiny-media-media-access-logs", "TargetPrefix": "media/"}
    # moto would apply a conditional statement unconditionally: only AWS evaluates the TLS-only deny.
    s3.put_object(Bucket=bucket, Key="other/ok.txt", Body=b"ok")


def test_object_created_reaches_the_default_bus_rule_with_the_aws_event(media: LocalCloud) -> None:
    bucket = media.outputs["BucketName"]
    media.client("s3").put_object(Bucket=bucket, Key="incoming/a.bin", Body=b"12345")
    media.client("s3").put_object(Bucket=bucket, Key="elsewhere/b.bin", Body=b"1")  # filtered by the rule
    hits = eventually(lambda: [r["event"] for r in recorder.records_for(FUNCTION)
                               if r["event"].get("source") == "aws.s3"])
    assert media.wait_idle(timeout=5), media.busy_reasons()
    hits = [r["event"] for r in recorder.records_for(FUNCTION) if r["event"].get("source") == "aws.s3"]
    assert [h["detail"]["object"]["key"] for h in hits] == ["incoming/a.bin"]
    assert hits[0]["detail-type"] == "Object Created" and hits[0]["detail"]["object"]["size"] == 5
    assert hits[0]["detail"]["bucket"]["name"] == bucket and isinstance(hits[0]["time"], str)


def test_receipt_rule_writes_the_raw_message_then_invokes_the_function(media: LocalCloud) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ana <ana@example.com>", "Help@Tiny.Example.com", "Hello"
    message.set_content("Hi there")
    raw = message.as_bytes()
    message_id = media.receive_email(raw)
    stored = media.client("s3").get_object(Bucket=media.outputs["BucketName"], Key=f"mail/{message_id}")
    assert stored["Body"].read() == raw
    [event] = eventually(lambda: [r["event"] for r in recorder.records_for(FUNCTION)
                                  if r["event"].get("Records", [{}])[0].get("eventSource") == "aws:ses"])
    ses = event["Records"][0]["ses"]
    assert ses["mail"]["messageId"] == message_id and ses["mail"]["commonHeaders"]["subject"] == "Hello"
    assert ses["receipt"]["recipients"] == ["Help@Tiny.Example.com"]
    assert ses["receipt"]["spfVerdict"]["status"] == "PASS"
    # A subdomain pattern matches; a recipient no rule names is not received at all.
    assert media.receive_email(raw, recipients=["desk@eu.support.example.com"])
    other = media.receive_email(raw, recipients=["nobody@elsewhere.example.com"])
    assert media.wait_idle(timeout=5)
    keys = [o["Key"] for o in media.client("s3").list_objects_v2(
        Bucket=media.outputs["BucketName"], Prefix="mail/").get("Contents", [])]
    assert f"mail/{other}" not in keys and len(keys) == 2


def test_a_receipt_rule_action_the_local_cloud_cannot_perform_fails_the_deploy(tmp_path) -> None:
    from infra.localcloud.cfn import UnsupportedLocally

    text = (TEMPLATES / "mail_media.yaml").read_text().replace(
        "          - LambdaAction: { FunctionArn: !GetAtt RecorderFunction.Arn, InvocationType: Event }",
        "          - BounceAction: { Sender: a@tiny.example.com, SmtpReplyCode: '550', Message: no }").replace(
        "CodeUri: ../handlers/", f"CodeUri: {TEMPLATES.parent / 'handlers'}/")
    (tmp_path / "bounce.yaml").write_text(text)
    local = LocalCloud(tmp_path / "bounce.yaml", {"Stage": "bounce"}, code_root=REPO_ROOT)
    with pytest.raises(UnsupportedLocally, match="BounceAction"):
        local.start()
