"""SmsOriginationIdentity reaches SNS: every SMS carries AWS.MM.SMS.OriginationNumber when it is set, and none
when it is empty (SNS then picks one of the account's numbers)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.adapters.messaging import Messenger
from shared.config import settings


class RecordingSns:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.published.append(kwargs)
        return {"MessageId": f"m-{len(self.published)}"}


@pytest.mark.parametrize("origination", ["+18885550123",
                                         "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-abc", ""])
def test_every_sms_carries_the_origination_identity_when_set(origination: str) -> None:
    sns = RecordingSns()
    Messenger("ops@opslayer.test", sns=sns, sms_origination=origination).sms("+15550100001", "hello")
    [call] = sns.published
    attributes = call["MessageAttributes"]
    assert attributes["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"
    if origination:
        assert attributes["AWS.MM.SMS.OriginationNumber"] == {"DataType": "String", "StringValue": origination}
    else:
        assert "AWS.MM.SMS.OriginationNumber" not in attributes


def test_the_setting_is_read_from_the_template_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_ORIGINATION_IDENTITY", "+18885550123")
    assert settings().sms_origination_identity == "+18885550123"
    monkeypatch.delenv("SMS_ORIGINATION_IDENTITY")
    assert settings().sms_origination_identity == ""
