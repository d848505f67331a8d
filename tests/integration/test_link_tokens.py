"""Link tokens on the local cloud: random, stored only as peppered hashes, scoped, expiring, revocable
(renewal, cancellation), one answer per link; GETs never spend them."""

from __future__ import annotations

import json
import time

import pytest

from shared.domain import links
from tests.integration.conftest import UNITS, U, eventually
from tests.integration.test_lifecycle import STATUS_LINK, record, submit, tenant_messages, wait_offer, window

pytestmark = pytest.mark.integration
INVALID = "This link is not valid. Use the latest link we sent you, or ask us for a new one."


def scan(stack) -> list[dict]:
    """Every item of the table (a Scan is for tests only; the code never scans)."""
    db, items = stack.cloud.client("dynamodb"), []
    kwargs = {"TableName": stack.cloud.physical("Table")}
    while True:
        resp = db.scan(**kwargs)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def digest(stack, token: str) -> str:
    return links.digest(token, stack.secret("LinkSigningSecret").encode())


def refused(resp) -> str:
    assert resp.status == 403, (resp.status, resp.body)
    body = resp.json()
    assert body["error"] == "forbidden" and "details" not in body
    return body["message"]


def status_token(created: dict) -> str:
    return created["status_url"].split("token=", 1)[1]


def renewals(stack, wo_id: str) -> list[dict]:
    return [m for m in stack.cloud.outbox() if "Here is your new link" in m["body"] and wo_id in m["body"]]


def questions(stack, unit: str, wo_id: str) -> list[dict]:
    """The follow-up questions texted to the tenant, newest first."""
    return [m for m in tenant_messages(stack, unit, wo_id) if m["channel"] == "sms" and "Is it fixed" in m["body"]]


def test_links_are_random_and_the_table_holds_only_their_hashes(stack, api, mint):
    unit = U("unit-harbor-201")
    created = submit(api, unit, "The front door lock is stiff and the key sticks")
    wo_id = created["id"]
    first, second = mint(wo_id, "tenant", unit, 600), mint(wo_id, "tenant", unit, 600)
    assert first != second and links.well_formed(first) and links.well_formed(second)  # same scope, new token
    vendor_id, vendor_token = wait_offer(stack, wo_id)
    tokens = [status_token(created), first, second, vendor_token]
    for token in tokens:
        assert token.startswith("olk1_") and len(token) == 48
    assert api.get(f"/requests/{wo_id}?token={first}").status == 200
    assert api.get(f"/vendor/jobs/{vendor_token}").status == 200

    items = scan(stack)
    dump = json.dumps(items)
    for token in tokens:  # neither the token nor its random part is stored anywhere
        assert token not in dump and token.removeprefix("olk1_") not in dump
    by_key = {(i["PK"]["S"], i["SK"]["S"]): i for i in items}
    item = by_key[(f"LINK#{digest(stack, first)}", "LINK")]
    assert item["work_order_id"]["S"] == wo_id and item["party"]["S"] == "tenant" and item["party_id"]["S"] == unit
    assert [a["S"] for a in item["actions"]["L"]] == ["view", "feedback", "visit", "safety"]
    expires = int(item["link_expires_at"]["N"])
    assert abs(expires - (time.time() + 600)) < 60
    assert int(item["expires_at"]["N"]) == expires + links.RENEWABLE_FOR  # the table's TTL attribute
    assert by_key[(f"LINK#{digest(stack, vendor_token)}", "LINK")]["party_id"]["S"] == vendor_id
    minute = int(time.time() // 60)  # the per-link rate counter is keyed on the same hash
    assert any(pk in (f"RATE#link#{digest(stack, first)}#{m}" for m in (minute, minute - 1)) for pk, _ in by_key)


def test_unknown_forged_expired_revoked_and_out_of_scope_links_are_refused_alike(stack, api, mint):
    unit = U("unit-harbor-201")
    wo_id = submit(api, unit, "Mailbox lock is broken")["id"]
    good = mint(wo_id, "tenant", unit, 600)
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    never_issued = links.new_token()
    revoked = mint(wo_id, "tenant", unit, 600)
    assert api.post("/links/renew", {"token": revoked}).status == 202
    expired = mint(wo_id, "tenant", unit, 60, now=time.time() - 3600)
    long_gone = mint(wo_id, "tenant", unit, 60, now=time.time() - links.RENEWABLE_FOR - 3600)
    messages = {refused(api.get(f"/requests/{wo_id}?token={t}"))
                for t in (tampered, never_issued, revoked, long_gone, "v1.eyJ3Ijoid28ifQ.bWFj", "x" * 5000)}
    messages.add(refused(api.get(f"/vendor/jobs/{never_issued}")))
    messages.add(refused(api.post(f"/vendor/jobs/{revoked}/accept")))
    assert messages == {INVALID}  # never says which
    assert "expired" in refused(api.get(f"/requests/{wo_id}?token={expired}"))
    unit_key = mint(unit, "unit", unit, 600)
    out_of_scope = {refused(api.get(f"/vendor/jobs/{good}")),                      # a tenant link on a vendor route
                    refused(api.get(f"/requests/{wo_id}?token={unit_key}")),       # a unit link on a status page
                    refused(api.get(f"/units/{U('unit-harbor-202')}/request?key={unit_key}")),  # another unit
                    refused(api.get(f"/vendor/jobs/{unit_key}"))}
    assert len(out_of_scope) == 1 and wo_id not in next(iter(out_of_scope))
    html = api.get(f"/requests/{wo_id}?token={revoked}", headers={"Accept": "text/html"})
    assert html.status == 403 and "<html" in html.body.decode() and wo_id not in html.body.decode()
    assert api.get(f"/requests/{wo_id}?token={good}").status == 200


def test_renewal_revokes_the_old_link_once(stack, api, mint):
    unit = U("unit-harbor-201")
    wo_id = submit(api, unit, "Patio door lock will not latch")["id"]
    old = mint(wo_id, "tenant", unit, 600)
    assert api.post("/links/renew", {"token": old}).status == 202
    sent = eventually(lambda: renewals(stack, wo_id))
    assert sent[0]["to"] == UNITS[unit].tenant.phone
    new = STATUS_LINK.search(sent[0]["body"]).group(2)
    assert new != old and api.get(f"/requests/{wo_id}?token={new}").status == 200
    assert refused(api.get(f"/requests/{wo_id}?token={old}")) == INVALID
    assert api.post("/links/renew", {"token": old}).status == 202  # a revoked link renews nothing
    stack.cloud.wait_idle()
    assert len(renewals(stack, wo_id)) == 1
    timeline = [e["detail"] for e in record(api, {"X-Ops-Key": stack.ops_key()}, wo_id)["timeline"]]
    assert "SMS to tenant: a new link (the old one revoked)" in timeline


def test_cancelling_a_work_order_stops_its_links(stack, api, ops_headers):
    unit = U("unit-harbor-201")
    created = submit(api, unit, "Bedroom door lock is jammed shut")
    wo_id = created["id"]
    _, vendor_token = wait_offer(stack, wo_id)
    tenant_token = status_token(created)
    assert api.get(f"/requests/{wo_id}?token={tenant_token}").status == 200
    cancelled = api.post(f"/ops/work-orders/{wo_id}/cancel", {"reason": "Tenant fixed it"}, headers=ops_headers)
    assert cancelled.status == 200
    assert refused(api.get(f"/requests/{wo_id}?token={tenant_token}")) == INVALID
    assert refused(api.get(f"/vendor/jobs/{vendor_token}")) == INVALID
    assert refused(api.post(f"/vendor/jobs/{vendor_token}/accept")) == INVALID
    assert api.post("/links/renew", {"token": tenant_token}).status == 202
    stack.cloud.wait_idle()
    assert renewals(stack, wo_id) == []


def test_an_answer_is_single_use_per_link_and_gets_never_spend_it(stack, api, ops_headers):
    unit = U("unit-harbor-201")
    wo_id = submit(api, unit, "The deadbolt on the back door does not turn")["id"]
    vendor, first_offer = wait_offer(stack, wo_id)
    for _ in range(3):  # a mail scanner or a preview fetching the page spends nothing
        assert api.get(f"/vendor/jobs/{first_offer}").json()["allowed_actions"] == ["accept", "decline"]
    assert api.post(f"/vendor/jobs/{first_offer}/accept").status == 200
    assert api.post(f"/vendor/jobs/{first_offer}/accept").status == 409  # a replay in the same round
    assert api.post(f"/vendor/jobs/{first_offer}/schedule", window()).status == 200  # the rest still works
    assert api.post(f"/vendor/jobs/{first_offer}/complete", {"notes": "Replaced the cylinder"}).status == 200
    question = eventually(lambda: questions(stack, unit, wo_id))
    first_question = STATUS_LINK.search(question[0]["body"]).group(2)
    for _ in range(3):
        assert api.get(f"/requests/{wo_id}?token={first_question}").json()["feedback_due"] is True
    resp = api.post(f"/requests/{wo_id}/feedback?token={first_question}", {"resolved": False})
    assert resp.json()["status"] == "reopened"
    assert api.post(f"/requests/{wo_id}/feedback?token={first_question}", {"resolved": False}).status == 409

    recall_vendor, second_offer = wait_offer(stack, wo_id, count=2)
    assert recall_vendor == vendor and second_offer != first_offer
    assert "already used" in refused(api.post(f"/vendor/jobs/{first_offer}/accept"))  # answered the first offer
    assert api.get(f"/vendor/jobs/{first_offer}").json()["allowed_actions"] == []  # shows the job, offers nothing
    assert api.get(f"/vendor/jobs/{second_offer}").json()["allowed_actions"] == ["accept", "decline"]
    assert api.post(f"/vendor/jobs/{second_offer}/accept").status == 200
    assert api.post(f"/vendor/jobs/{second_offer}/schedule", window()).status == 200
    assert api.post(f"/vendor/jobs/{second_offer}/complete", {"notes": "Realigned the strike plate"}).status == 200
    again = eventually(lambda: (q := questions(stack, unit, wo_id)) and len(q) == 2 and q)
    second_question = STATUS_LINK.search(again[0]["body"]).group(2)  # the newest
    assert second_question != first_question
    assert api.get(f"/requests/{wo_id}?token={first_question}").json()["feedback_due"] is False
    assert "already used" in refused(api.post(f"/requests/{wo_id}/feedback?token={first_question}",
                                              {"resolved": True}))
    assert record(api, ops_headers, wo_id)["status"] == "completed"
    resp = api.post(f"/requests/{wo_id}/feedback?token={second_question}", {"resolved": True})
    assert resp.status == 200 and resp.json()["status"] == "verified"


def test_unit_links_are_long_lived_and_every_printed_one_keeps_working(stack, api, ops_headers):
    import re

    unit = U("unit-harbor-201")
    keys = []
    for _ in range(2):
        html = api.get(f"/ops/units/{unit}/qr", headers=ops_headers).body.decode()
        keys.append(re.search(rf"request\?key=({links.TOKEN_PATTERN})", html).group(1))
    assert keys[0] != keys[1]
    ttl = stack.unit_link_ttl()
    assert ttl == 2 * 365 * 86400  # the UnitLinkTtlSeconds default
    for key in keys:
        assert api.get(f"/units/{unit}/request?key={key}", headers={"Accept": "text/html"}).status == 200
        stored = stack.repo.get_link(digest(stack, key))
        assert abs(stored["link_expires_at"] - (time.time() + ttl)) < 60 and stored["party"] == "unit"
