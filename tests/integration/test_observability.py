"""Logs carry ids and never PII; every lifecycle event is a metric (EMF)."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import UNITS, U, eventually
from tests.integration.test_lifecycle import submit, wait_offer

pytestmark = pytest.mark.integration


def json_objects(text: str) -> list[dict]:
    """Every JSON object in the output. In-process functions share stdout, so a metrics line and a log
    line may share a physical line; each object is still written whole."""
    decoder, found, i = json.JSONDecoder(), [], text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
            found.append(obj)
            i = text.find("{", end)
        except ValueError:
            i = text.find("{", i + 1)
    return [o for o in found if isinstance(o, dict)]


def test_logs_have_ids_but_no_pii_and_metrics_are_emitted(stack, api, capfd):
    unit = UNITS[U("unit-maple-1a")]  # its access instructions hold a lockbox code
    capfd.readouterr()
    wo_id = submit(api, unit.id, "Gas smell in the hallway near the stove")["id"]
    _, token = wait_offer(stack, wo_id)
    api.post(f"/vendor/jobs/{token}/decline", {"reason": "Can't make it"})
    eventually(lambda: len([m for m in stack.cloud.outbox() if wo_id in m["body"]]) >= 4)
    stack.cloud.wait_idle()
    out = capfd.readouterr().out
    for secret in (unit.tenant.phone, unit.tenant.email, "lockbox 700", unit.tenant.phone.removeprefix("+1")):
        assert secret not in out, f"PII in logs: {secret}"
    records = json_objects(out)
    emf = [r for r in records if "_aws" in r]
    metric_names = {m["Name"] for r in emf for d in r["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"WorkOrderReceived", "WorkOrderTriaged", "VendorOffered", "VendorDeclined", "MessageSms"} <= metric_names
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Opslayer" for r in emf)
    logs = [r for r in records if "level" in r]
    assert any(r.get("work_order_id") == wo_id for r in logs)


def test_the_metered_cost_leaves_out_an_observers_requests(served, ops_headers):
    """`make bench` (e) meters one work order; its own polls of the ops view carry the local API's
    unmetered header and are not part of what the work order costs."""
    import requests

    from infra.localcloud import usage

    with usage.metering() as metered:
        requests.get(f"{served}/ops/work-orders?limit=1", headers=ops_headers, timeout=10).raise_for_status()
    with usage.metering() as observed:
        requests.get(f"{served}/ops/work-orders?limit=1", timeout=10,
                     headers={**ops_headers, usage.UNMETERED_HEADER: "1"}).raise_for_status()
    assert sum(n for f, n in metered.lambda_invocations.items() if f.endswith("-api")) == 1
    assert metered.requests[("dynamodb", "Query")] >= 1
    assert not any(f.endswith("-api") for f in observed.lambda_invocations)
    assert observed.requests[("dynamodb", "Query")] == 0


def test_the_iam_audit_sees_each_handlers_calls_as_its_own(stack, api):
    """The session's IAM audit (tests/conftest.py) is fed: a request's path is recorded under each function that
    made the call, with the IAM action and the resource it needs (so a missing permission cannot pass unseen)."""
    from infra.localcloud import iam_audit

    wo_id = submit(api, U("unit-maple-1a"), "The bathroom towel rail is loose")["id"]
    wait_offer(stack, wo_id)
    cloud, name = stack.cloud, stack.cloud.physical
    seen = {(f, a, iam_audit.resolved(r, cloud) or "") for f, a, r in iam_audit.recorded()}
    table = f"arn:aws:dynamodb:{cloud.region}:{cloud.account_id}:table/{name('Table')}"
    assert (name("ApiFunction"), "dynamodb:PutItem", table) in seen
    assert (name("IntakeFunction"), "states:StartExecution", name("WorkOrderStateMachine")) in seen
    assert (name("TriageFunction"), "states:SendTaskSuccess", "*") in seen  # it answers its own wait
    assert {a for f, a, r in seen if f == name("TriageFunction") and r.startswith(f"{table}/index/")}  # ranking
    assert iam_audit.unallowed(stack.cloud) == {}
