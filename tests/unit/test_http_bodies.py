"""The one request-body parser every route uses: urlencoded forms and JSON objects, errors as 400s."""

from __future__ import annotations

import pytest

from shared import http
from shared.domain.errors import MalformedRequest

FORM = "application/x-www-form-urlencoded"


def test_a_form_is_decoded_stripped_and_blank_fields_are_dropped():
    body = b"description=+Leak+under+the+sink%0A+&phone=%2B15551234567&comment=&name=Ana%20Mar%C3%ADa"
    assert http.parse_form(body, FORM) == {"description": "Leak under the sink", "phone": "+15551234567",
                                           "name": "Ana María"}


def test_a_repeated_field_keeps_its_last_value():
    assert http.parse_form(b"window=1&window=2", FORM) == {"window": "2"}
    assert http.parse_form(b"window=1&window=+", FORM) == {"window": "1"}  # a blank value is no value


def test_exact_keeps_values_as_sent_for_signature_checks():
    body = b"Body=YES+&From=%2B15551234567&MediaUrl0="
    assert http.parse_form(body, FORM, exact=True) == {"Body": "YES ", "From": "+15551234567", "MediaUrl0": ""}


def test_the_declared_charset_is_used():
    assert http.parse_form(b"name=Jos%E9", f"{FORM}; charset=ISO-8859-1") == {"name": "José"}


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"name=Jos%E9", FORM, "not valid utf-8"),  # a Latin-1 byte in a UTF-8 form
    (b"name=Jos\xe9", FORM, "not valid utf-8"),
    (b"name=x", f"{FORM}; charset=klingon", "'klingon' is not supported"),
    (b"&".join(b"f%d=1" % i for i in range(http.MAX_FORM_FIELDS + 1)), FORM, "more than 200 fields"),
])
def test_a_form_that_cannot_be_read_is_a_400_naming_the_problem(body, content_type, message):
    with pytest.raises(MalformedRequest, match=message) as caught:
        http.parse_form(body, content_type)
    status, error = http.from_domain(caught.value)
    assert status == 400 and error["error"] == caught.value.code and message in error["message"]


def test_a_body_is_a_form_or_a_json_object():
    assert http.parse_body(b"reason=+Busy+", f"{FORM}; charset=UTF-8") == {"reason": "Busy"}
    assert http.parse_body(b'{"reason": " Busy "}', "application/json") == {"reason": " Busy "}
    assert http.parse_body(b'{"a": 1}', "text/plain") == {"a": 1}
    assert http.parse_body(b'{"a": 1}', None) == {"a": 1}
    assert http.parse_body(b"  ", "application/json") == {}


@pytest.mark.parametrize(("body", "message"), [
    (b'{"reason": "Bu', "not valid JSON"),
    (b'["a"]', "must be a JSON object"),
    (b'{"reason": "Jos\xe9"}', "not valid UTF-8"),
])
def test_a_body_that_is_not_a_json_object_is_a_400(body, message):
    with pytest.raises(MalformedRequest, match=message) as caught:
        http.parse_body(body, "application/json")
    assert http.from_domain(caught.value)[0] == 400


def test_the_kpi_and_report_bodies_are_validated_by_their_models():
    from pydantic import ValidationError

    from shared.schemas import KpiBaselineIn, KpiPeriodIn, OwnerReportLinkIn

    body = KpiBaselineIn.model_validate({"from": "2026-06-01", "to": "2026-08-31", "figures": {"resolution": 3600}})
    assert body.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "from": "2026-06-01", "to": "2026-08-31", "figures": {"resolution": 3600.0}}
    for bad in ({"from": "last spring"}, {"figures": {"resolution": "fast"}}, {"surprise": 1}):
        with pytest.raises(ValidationError):
            KpiBaselineIn.model_validate(bad)
    assert KpiPeriodIn.model_validate({}).first is None
    assert OwnerReportLinkIn.model_validate({"month": "2026-11"}).month == "2026-11"
    with pytest.raises(ValidationError):
        OwnerReportLinkIn.model_validate({"month": "2026-13"})
