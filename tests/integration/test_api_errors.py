"""Bad input gets a clear 4xx with {error, message, details?}; nothing is half-written."""

from __future__ import annotations

import time

import pytest

from shared.domain import links
from tests.integration.conftest import P, U, V, eventually

pytestmark = pytest.mark.integration
GOOD = {"unit_id": U("unit-maple-3b"), "name": "Fatima Khan", "description": "Dishwasher will not drain"}


def error_of(resp, status: int, code: str) -> dict:
    assert resp.status == status, (resp.status, resp.body)
    body = resp.json()
    assert body["error"] == code and body["message"], body
    return body


def count_orders(api, ops_headers) -> int:
    return api.get(f"/ops/work-orders?property_id={P('prop-maple')}&limit=200", headers=ops_headers).json()["count"]


@pytest.mark.parametrize("raw,code,status", [
    ("{not json", "bad_request", 400),
    ("[1, 2]", "bad_request", 400),
    ('"just a string"', "bad_request", 400),
])
def test_malformed_bodies(api, raw, code, status):
    error_of(api.call("POST", "/requests", raw=raw, headers={"Content-Type": "application/json"}), status, code)


@pytest.mark.parametrize("raw,content_type,message", [
    (b"description=Caf%E9+sink+leak", "application/x-www-form-urlencoded", "not valid utf-8"),
    (b"description=Sink+leak", "application/x-www-form-urlencoded; charset=klingon", "'klingon' is not supported"),
    (b'{"description": "Caf\xe9 sink leak"}', "application/json", "not valid UTF-8"),
])
def test_bodies_not_in_their_charset_are_a_400_naming_the_problem(api, raw, content_type, message):
    resp = api.call("POST", "/requests", raw=raw, headers={"Content-Type": content_type})
    assert message in error_of(resp, 400, "bad_request")["message"]


@pytest.mark.parametrize("patch,field", [
    ({"unit_id": None}, "unit_id"),
    ({"description": 42}, "description"),
    ({"description": "x" * 5001}, "description"),
    ({"phone": "call me maybe"}, "phone"),
    ({"email": "not-an-email"}, "email"),
    ({"name": ""}, "name"),
    ({"surprise": "field"}, "surprise"),
    ({"availability": [{"start": "2026-11-24T09:00:00", "end": "2026-11-24T11:00:00"}]}, "availability"),
])
def test_invalid_fields_are_named(api, patch, field):
    body = {**GOOD, **patch}
    body = {k: v for k, v in body.items() if v is not None}
    err = error_of(api.post("/requests", body), 422, "invalid_input")
    assert any(d["field"].startswith(field) for d in err["details"]), err


def test_unknown_unit_writes_nothing(api, ops_headers):
    before = count_orders(api, ops_headers)
    err = error_of(api.post("/requests", {**GOOD, "unit_id": "unit-nowhere"}), 422, "invalid_input")
    assert err["details"][0]["field"] == "unit_id"
    assert count_orders(api, ops_headers) == before


def test_description_at_the_limit_is_accepted(api):
    assert api.post("/requests", {**GOOD, "description": "Dishwasher leaks. " + "x" * 4982}).status == 202


def test_wrong_tokens_are_403_and_reveal_nothing(stack, api, mint):
    wo_id = api.post("/requests", GOOD).json()["id"]
    tenant = mint(wo_id, "tenant", U("unit-maple-3b"), 600)
    other_wo = mint("wo-someoneelse", "tenant", U("unit-maple-3b"), 600)
    expired = mint(wo_id, "tenant", U("unit-maple-3b"), 60, now=time.time() - 3600)
    forged = links.new_token()  # well formed, never issued
    cases = [
        api.get(f"/requests/{wo_id}"),                                  # no token
        api.get(f"/requests/{wo_id}?token=garbage"),
        api.get(f"/requests/{wo_id}?token={other_wo}"),                # another work order's link
        api.get(f"/requests/{wo_id}?token={expired}"),
        api.get(f"/vendor/jobs/{tenant}"),                             # tenant link on a vendor route
        api.get(f"/vendor/jobs/{forged}"),
        api.post(f"/vendor/jobs/{forged}/accept"),
        api.post(f"/requests/{wo_id}/feedback?token={other_wo}", {"resolved": True}),
    ]
    for resp in cases:
        body = error_of(resp, 403, "forbidden")
        assert wo_id not in resp.body.decode() and "details" not in body
    assert "expired" in cases[3].json()["message"]
    html = api.get(f"/vendor/jobs/{forged}", headers={"Accept": "text/html"})
    assert html.status == 403 and "text/html" in html.headers["Content-Type"] and "<html" in html.body.decode()
    assert api.get(f"/requests/{wo_id}?token={tenant}").status == 200


def test_vendor_action_bodies_are_validated(stack, api, mint):
    wo_id = api.post("/requests", {**GOOD, "description": "Garbage disposal jammed"}).json()["id"]
    token = mint(wo_id, "vendor", V("ven-appliance"), 600)
    error_of(api.post(f"/vendor/jobs/{token}/decline", {}), 422, "invalid_input")
    bad_window = {"start": "2026-11-24T11:00:00-05:00", "end": "2026-11-24T09:00:00-05:00"}
    error_of(api.post(f"/vendor/jobs/{token}/schedule", bad_window), 422, "invalid_input")
    error_of(api.post(f"/vendor/jobs/{token}/schedule", {"start": "tomorrow", "end": "later"}), 422, "invalid_input")
    error_of(api.post(f"/vendor/jobs/{token}/complete", {"notes": ""}), 422, "invalid_input")


def test_ops_routes_need_the_key_and_validate_filters(api, ops_headers):
    error_of(api.get("/ops/work-orders"), 401, "unauthorized")
    error_of(api.get("/ops/work-orders", headers={"X-Ops-Key": "wrong"}), 401, "unauthorized")
    error_of(api.get("/ops/work-orders?status=lost", headers=ops_headers), 422, "invalid_input")
    error_of(api.get("/ops/work-orders?source=fax", headers=ops_headers), 422, "invalid_input")
    error_of(api.get("/ops/work-orders/wo-doesnotexist", headers=ops_headers), 404, "not_found")
    error_of(api.post("/ops/work-orders/wo-doesnotexist/cancel", {"reason": "x"}, headers=ops_headers),
             404, "not_found")


def test_ops_list_filters(api, ops_headers):
    wo_id = api.post("/requests", {**GOOD, "unit_id": U("unit-harbor-302"), "name": "Lena Fischer"}).json()["id"]
    by_property = api.get(f"/ops/work-orders?property_id={P('prop-harbor')}", headers=ops_headers).json()
    assert wo_id in [w["id"] for w in by_property["work_orders"]]
    assert all(w["property_id"] == P("prop-harbor") for w in by_property["work_orders"])
    web = api.get(f"/ops/work-orders?source=web&property_id={P('prop-harbor')}", headers=ops_headers).json()
    assert wo_id in [w["id"] for w in web["work_orders"]]
    iot = api.get("/ops/work-orders?source=iot", headers=ops_headers).json()["work_orders"]
    assert wo_id not in [w["id"] for w in iot] and all(w["source"] == "iot" for w in iot)
    offered = eventually(lambda: wo_id in [w["id"] for w in api.get(
        "/ops/work-orders?status=offered", headers=ops_headers).json()["work_orders"]])
    assert offered


def test_unknown_routes_and_methods(api):
    assert api.get("/nope").status == 404
    assert api.call("DELETE", "/requests").status in (404, 405)
    assert api.get("/health").json()["status"] == "ok"


def test_a_link_is_rate_limited_per_minute(stack, api, mint):
    wo_id = api.post("/requests", {**GOOD, "description": "Fridge light is out"}).json()["id"]
    token = mint(wo_id, "tenant", U("unit-maple-3b"), 600)
    # 60 a minute per link (the rule: tests/service/test_rate_limits.py). The window is the wall-clock minute,
    # so the run may straddle two: the 429 comes after 60 to 120 answers.
    answered = 0
    limited = api.get(f"/requests/{wo_id}?token={token}")
    while limited.status == 200 and answered < 121:
        answered += 1
        limited = api.get(f"/requests/{wo_id}?token={token}")
    assert 60 <= answered <= 120, answered
    assert limited.status == 429 and limited.json()["error"] == "rate_limited" and limited.headers["Retry-After"]
    other = mint(wo_id, "tenant", U("unit-maple-3b"), 900)  # another link is counted apart
    assert api.get(f"/requests/{wo_id}?token={other}").status == 200
    assert api.get("/health").status == 200


def test_ip_limit_counts_every_link(stack):
    from shared.services.rate_limits import over_limit

    now = 1_900_000_000.0
    hits = [over_limit(stack.repo, "198.51.100.7", f"t{i}", 3, 100, now) for i in range(4)]
    assert hits == [False, False, False, True]
    assert over_limit(stack.repo, "198.51.100.7", None, 3, 100, now + 60) is False  # a new minute
