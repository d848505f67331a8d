"""The drill's report: DrillFailed 0 on a pass, 1 on a failure (a step, an unreachable API, a broken drill),
each scenario's duration, ops routes signed and public ones not. The HTTP API is a stub session."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from shared.drill_runner import DrillFailure, DrillRun, key_auth, play
from tests.lambda_modules import fresh_import

SETUP = {"property": {"id": "drill-property"}, "units": [], "vendors": [], "changed": [],
         "messages_since": "2026-06-10T14:00:00+00:00"}


class StubApi(requests.Session):
    """Answers the drill's setup and sink routes; records every request with its headers."""

    def __init__(self, messages: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.messages = messages or []
        self.status = "received"  # the one work order a request creates here

    def request(self, method, url, **kw):  # type: ignore[override]
        self.seen.append((method, url, dict(kw.get("headers") or {})))
        resp = requests.Response()
        resp.headers["content-type"] = "application/json"
        if url.endswith("/ops/drill/setup"):
            resp.status_code, body = 200, SETUP
        elif "/ops/drill/messages" in url:
            fresh = [m for m in self.messages if m["id"] > url.rsplit("since=", 1)[1]]
            resp.status_code, body = 200, {"messages": fresh, "next": fresh[-1]["id"] if fresh else None}
        elif url.endswith("/requests") and method == "POST":
            resp.status_code, body = 202, {"id": "wo-0123456789a", "status": "received"}
        elif url.endswith("/ops/work-orders/wo-0123456789a"):
            resp.status_code, body = 200, {"id": "wo-0123456789a", "status": self.status}
        elif url.endswith("/ops/work-orders/wo-0123456789a/cancel"):
            self.status = "cancelled"
            resp.status_code, body = 200, {"id": "wo-0123456789a", "status": self.status}
        else:
            resp.status_code, body = 404, {"error": "not_found"}
        resp._content = json.dumps(body).encode()
        return resp


def emf(out: str, name: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, (x for x in out.splitlines() if x.startswith('{"_aws"')))
            if name in line]


def test_a_passing_drill_reports_drill_failed_zero_and_its_scenarios_durations(capsys) -> None:
    api = StubApi([{"id": "2026-06-10T14:00:01+00:00#a", "to": "+15550990011", "body": "Request wo-1 received"}])
    run = DrillRun("https://api.example.test/prod", key_auth("k"), session=api, poll_s=0)

    def acknowledged(r: DrillRun) -> None:
        r.step("ack", "tenant acknowledged", time.perf_counter(), lambda: r.wait_message("+15550990011", "wo-1"))

    outcome = play(run, [acknowledged])
    assert outcome["passed"] and outcome["failed"] is None and outcome["steps"] == 2
    out = capsys.readouterr().out
    [failed] = emf(out, "DrillFailed")
    assert failed["DrillFailed"] == 0 and failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage"]]
    durations = {m["Scenario"]: m["DrillScenarioSeconds"] for m in emf(out, "DrillScenarioSeconds")}
    assert set(durations) == {"setup", "ack"}
    # Ops routes carry the ops credentials; the drill's setup is one of them.
    calls = [(m, u.rsplit("/prod", 1)[1].split("?")[0], h.get("X-Ops-Key")) for m, u, h in api.seen]
    assert calls[0] == ("POST", "/ops/drill/setup", "k") and set(calls[1:]) == {("GET", "/ops/drill/messages", "k")}


def test_a_missing_message_fails_the_drill_with_drill_failed_one_naming_the_step(capsys) -> None:
    run = DrillRun("https://api.example.test/prod", key_auth("k"), session=StubApi(), poll_s=0, step_budget_s=0.05)

    def acknowledged(r: DrillRun) -> None:
        r.step("ack", "tenant acknowledged", time.perf_counter(), lambda: r.wait_message("+15550990011", "wo-1"))

    outcome = play(run, [acknowledged])
    assert not outcome["passed"] and outcome["failed"].startswith("ack: tenant acknowledged: no message to")
    [failed] = emf(capsys.readouterr().out, "DrillFailed")
    assert failed["DrillFailed"] == 1


def test_a_failed_run_cancels_the_work_orders_it_left_open(capsys) -> None:
    api = StubApi()
    run = DrillRun("https://api.example.test/prod", key_auth("k"), session=api, poll_s=0, step_budget_s=0.05)
    unit = {"id": "drill-unit-a", "tenant": {"name": "Drill Tenant A", "phone": "+15550990010"}}
    outcome = play(run, [lambda r: r.run_request("emergency", unit, "Water everywhere")])
    assert outcome["failed"].startswith("emergency: tenant acknowledged (sms): no message")
    assert outcome["work_orders"] == ["wo-0123456789a"] and outcome["cleaned_up"] == {"wo-0123456789a": "cancelled"}
    cancel = [(m, h) for m, u, h in api.seen if u.endswith("/cancel")]
    assert cancel == [("POST", cancel[0][1])] and cancel[0][1]["X-Ops-Key"] == "k"


def test_an_unreachable_api_and_a_broken_scenario_are_failed_drills_too(capsys) -> None:
    unreachable = DrillRun("http://127.0.0.1:9", key_auth("k"), poll_s=0)
    assert play(unreachable)["failed"].startswith("setup: drill records ready: ConnectionError")

    def broken(r: DrillRun) -> None:
        raise KeyError("units")

    assert play(DrillRun("https://api.example.test/prod", key_auth("k"), session=StubApi()), [broken])["passed"] \
        is False
    assert [m["DrillFailed"] for m in emf(capsys.readouterr().out, "DrillFailed")] == [1, 1]


def test_sigv4_signs_ops_routes_for_execute_api() -> None:
    from botocore.credentials import Credentials

    from shared.drill_runner import sigv4_auth

    headers = sigv4_auth(Credentials("AKIDEXAMPLE", "secret", "token"), "us-east-1")(
        "GET", "https://abc.execute-api.us-east-1.amazonaws.com/prod/ops/drill/messages?since=x", None, {})
    assert "execute-api/aws4_request" in headers["Authorization"] and headers["X-Amz-Security-Token"] == "token"


def test_the_drill_function_reports_a_failed_run_when_its_api_is_unreachable(monkeypatch, capsys) -> None:
    env = {"TABLE_NAME": "opslayer-test", "EVENT_BUS_NAME": "opslayer-test", "DRILL_API_URL": "http://127.0.0.1:9",
           "POWERTOOLS_TRACE_DISABLED": "true",
           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1"}
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    context = SimpleNamespace(function_name="opslayer-test-drill", memory_limit_in_mb=512, aws_request_id="r-1",
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:drill",
                              get_remaining_time_in_millis=lambda: 120_000)
    with fresh_import("functions.drill", env) as module:
        outcome = module.lambda_handler({"action": "drill"}, context)
    assert outcome["passed"] is False and "ConnectionError" in outcome["failed"]
    assert [m["DrillFailed"] for m in emf(capsys.readouterr().out, "DrillFailed")] == [1]


def test_a_drill_failure_is_an_exception_of_its_own() -> None:
    with pytest.raises(DrillFailure):
        DrillRun("https://api.example.test", key_auth("k"), session=StubApi()).call("GET", "/nowhere")


class KpiApi(StubApi):
    """StubApi that also answers the KPIs of listed work orders (GET /ops/kpis?work_orders=..)."""

    def request(self, method, url, **kw):  # type: ignore[override]
        if "/ops/kpis?" not in url:
            return super().request(method, url, **kw)
        self.seen.append((method, url, dict(kw.get("headers") or {})))
        resp = requests.Response()
        resp.headers["content-type"] = "application/json"
        resp.status_code = 200
        resp._content = json.dumps({"kpis": [{"id": "first_offer", "mean": 42.0},
                                             {"id": "resolution", "mean": None}]}).encode()
        return resp


def test_the_drill_reports_the_kpis_of_its_own_work_orders_per_scenario(capsys) -> None:
    tenant = {"name": "Drill Tenant A", "phone": "+15550990010"}
    api = KpiApi([{"id": "2026-06-10T14:00:01+00:00#a", "to": tenant["phone"], "body": "Request wo-0123456789a"}])
    run = DrillRun("https://api.example.test/prod", key_auth("k"), session=api, poll_s=0)
    outcome = play(run, [lambda r: r.request("emergency", time.perf_counter(), {"id": "drill-unit-a", "tenant": tenant},
                                             "Water everywhere")])
    assert outcome["passed"] and outcome["kpis"] == {"emergency": {"first_offer": 42.0, "resolution": None}}
    [(method, url, headers)] = [s for s in api.seen if "/ops/kpis" in s[1]]
    assert (method, url.split("?", 1)[1], headers["X-Ops-Key"]) == ("GET", "work_orders=wo-0123456789a", "k")
    table = DrillRun.kpi_table(outcome["kpis"])
    assert table.splitlines()[1].split() == ["emergency", "42", "s", "-"]
    assert DrillRun.kpi_table({"sms": {"complete": 0.4, "resolution": 7300}}).splitlines()[1].split() == [
        "sms", "0.4", "s", "2.0", "h"]
    assert "kpi_table" in capsys.readouterr().out  # the DrillFunction's log carries it


def test_a_kpi_summary_that_cannot_be_read_leaves_the_verdict_alone(capsys) -> None:
    tenant = {"name": "Drill Tenant A", "phone": "+15550990010"}
    api = StubApi([{"id": "2026-06-10T14:00:01+00:00#a", "to": tenant["phone"], "body": "Request wo-0123456789a"}])
    run = DrillRun("https://api.example.test/prod", key_auth("k"), session=api, poll_s=0)
    outcome = play(run, [lambda r: r.request("emergency", time.perf_counter(), {"id": "drill-unit-a", "tenant": tenant},
                                             "Water everywhere")])
    assert outcome["passed"] and outcome["kpis"] == {}  # the stub answers 404 to /ops/kpis
    assert DrillRun.kpi_table({}) == ""
