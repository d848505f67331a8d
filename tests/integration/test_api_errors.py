"""Bad input gets a clear 4xx with {error, message, details?}; nothing is half-written."""

from __future__ import annotations

import time

import pytest

from shared.domain import links
from tests.integration.conftest import P, U

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


def test_ops_routes_need_the_key_and_validate_filters(api, ops_headers):
    error_of(api.get("/ops/work-orders"), 401, "unauthorized")
    error_of(api.get("/ops/work-orders", headers={"X-Ops-Key": "wrong"}), 401, "unauthorized")
    error_of(api.get("/ops/work-orders?status=lost", headers=ops_headers), 422, "invalid_input")
    error_of(api.get("/ops/work-orders?source=fax", headers=ops_headers), 422, "invalid_input")
    error_of(api.get("/ops/work-orders/wo-doesnotexist", headers=ops_headers), 404, "not_found")
    error_of(api.post("/ops/work-orders/wo-doesnotexist/cancel", {"reason": "x"}, headers=ops_headers),
             404, "not_found")


def test_unknown_routes_and_methods(api):
    assert api.get("/nope").status == 404
    assert api.call("DELETE", "/requests").status in (404, 405)
    assert api.get("/health").json()["status"] == "ok"
