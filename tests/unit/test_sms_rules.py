"""SMS rules without a cloud: the Twilio signature against independent vectors, keyword and answer
classification, and the quiet-hours window."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.intent import Intent, classify
from shared.domain.quiet_hours import QuietHours
from shared.services.sms import twilio_signature

WEBHOOK_URL = "http://testserver/channels/sms"


# ---------------------------------------------------------------- signature vectors (computed with openssl)
def test_twilio_signature_matches_independent_vectors():
    # printf '%s' 'https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDE'\
    #   'Caller+12349013030Digits1234From+12349013030To+18005551212' \
    #   | openssl dgst -sha1 -hmac 12345 -binary | base64
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    assert twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) \
        == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    # printf '%s' 'http://testserver/channels/smsBodySTATUSFrom+15550100010MessageSidSM0001To+15550199999' \
    #   | openssl dgst -sha1 -hmac s3cr3t -binary | base64
    params = {"To": "+15550199999", "From": "+15550100010", "Body": "STATUS", "MessageSid": "SM0001"}
    assert twilio_signature("s3cr3t", WEBHOOK_URL, params) == "VszKuFLQPn7mWIxrInA7bc4bhac="


def test_keywords_and_plain_answers_are_classified():
    for text in ("STOP", "stopall", "Unsubscribe", "cancel", "END", "quit"):
        assert classify(text) == Intent.STOP
    for text in ("START", "unstop"):
        assert classify(text) == Intent.START
    assert classify("HELP") == classify("info") == Intent.HELP
    assert classify(" status ") == Intent.STATUS
    for text in ("yes it's fixed", "y", "Sí", "YES!", "yep all good"):
        assert classify(text) == Intent.YES, text
    for text in ("no, still leaking", "nope", "no", "NO"):
        assert classify(text) == Intent.NO, text
    assert classify("The kitchen sink is leaking") == Intent.TEXT
    assert classify("stop the dripping tap please") == Intent.TEXT  # a keyword only when it is the whole text


def test_quiet_hours_window_with_an_injected_clock():
    hours = QuietHours.build("21:00", "08:00", "America/Chicago", "America/New_York")
    night = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 22:30 on the 23rd in Chicago
    release = hours.release_at(night)
    assert release is not None and (release.hour, release.minute, release.day) == (8, 0, 24)
    assert hours.release_at(datetime(2026, 11, 24, 18, 0, tzinfo=UTC)) is None  # noon in Chicago
    early = hours.release_at(datetime(2026, 11, 24, 13, 59, tzinfo=UTC))  # 07:59 in Chicago
    assert early is not None and early.day == 24
    fallback = QuietHours.build("21:00", "08:00", "Not/AZone", "America/New_York")
    assert str(fallback.zone) == "America/New_York"
