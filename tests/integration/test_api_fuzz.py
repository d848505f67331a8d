"""schemathesis against the local API over real HTTP: every operation of the served /openapi.json, bodies
included, valid and invalid data, a few examples each. Every answer must not be a server error and must match
the document (status code, content type, response schema, headers) - schemathesis' default checks.

Derandomized (a fixed seed, no example database), no shrinking: the same requests every run, in seconds.
The ops key goes with every request (OpsAuthMode=key locally) so the /ops routes are exercised beyond 401;
link routes answer 403 to the generated tokens, as documented. What a valid request may change that other tests
of the session read (the one KPI baseline) is put back; every other change lands on generated ids (404)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode

from shared.services.kpis import BASELINE
from tests.integration.conftest import P, U, V

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

SEED = 20261203
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 4}  # per operation
MODES = tuple(EXAMPLES)
# What schemathesis accepts as the answer to schema-valid data: its default, and 422 - the API's answer to a
# well-formed request that breaks a rule a JSON Schema cannot state (from after to, an end before its start, a
# unit or KPI id that does not exist, a status and a stage that disagree). Each 422 names the rule in `details`.
ACCEPTED = ["2XX", "3XX", "401", "403", "404", "409", "422", "429"]


def _negatable(operation: Any) -> bool:
    """Invalid data needs somewhere to go: a body, a query parameter or a header (a path segment is any string)."""
    definition = operation.definition.raw
    return "requestBody" in definition or any(p["in"] != "path" for p in definition.get("parameters", []))


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, session: requests.Session,
          statuses: Counter, rules: Counter) -> tuple[int, list[str]]:
    """Run one operation's examples in one mode; (requests sent, failures as text)."""
    sent = 0

    @seed(SEED)
    @settings(max_examples=EXAMPLES[mode], database=None, deadline=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        response = case.call_and_validate(base_url=base_url, session=session)
        statuses[response.status_code] += 1
        if mode is GenerationMode.POSITIVE and response.status_code == 422:
            rules[operation.label] += 1

    try:
        run()
    except Unsatisfiable:  # nothing of this operation can be made invalid
        return sent, []
    except (Exception, BaseExceptionGroup) as exc:  # a check's FailureGroup: report it, go on with the others
        return sent, [f"{operation.label} [{mode.value}]: {exc}"]
    return sent, []


@contextmanager
def _baseline_kept(stack: Any) -> Iterator[None]:
    """A valid PUT /ops/kpis/baseline sets the stack's one KPI baseline: put back what other tests see."""
    before = stack.repo.get_config(BASELINE)
    try:
        yield
    finally:
        if before is not None:
            stack.repo.put_config(BASELINE, before)
        else:
            stack.cloud.client("dynamodb").delete_item(
                TableName=stack.cloud.physical("Table"), Key={"PK": {"S": "CONFIG"}, "SK": {"S": BASELINE}})


def test_every_operation_answers_as_documented(served, stack):
    started = time.monotonic()
    # The ops key as the document's opsKey scheme: schemathesis also sends each /ops route without it (401).
    config = schemathesis.Config.from_dict({
        "auth": {"openapi": {"opsKey": {"api_key": stack.ops_key()}}},
        # What is checked is the answer, not its speed: on a loaded machine a valid KPI backfill (31 days of the
        # session's jobs recomputed) can outlast schemathesis' 10 s default, which would fail as a timeout.
        "request-timeout": 60,
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        # A cursor is opaque and signed: only the API makes one, so a generated one is refused (400, documented).
        "operations": [{"include-path": "/ops/work-orders", "include-method": "GET",
                        "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}}}]})
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json", config=config)
    statuses: Counter = Counter()
    rules: Counter = Counter()  # schema-valid requests refused by a rule (422), by operation
    failures: list[str] = []
    total = 0
    fuzzed: set[str] = set()
    with requests.Session() as session, _baseline_kept(stack):
        for result in schema.get_all_operations():
            operation = result.ok()
            fuzzed.add(operation.label)
            for mode in MODES if _negatable(operation) else MODES[:1]:
                sent, failed = _fuzz(operation, mode, served, session, statuses, rules)
                total += sent
                failures += failed
    elapsed = time.monotonic() - started
    per_mode = " + ".join(f"{n} {mode.value}" for mode, n in EXAMPLES.items())
    print(f"\nschemathesis: {len(fuzzed)} operations x <= ({per_mode}) examples = {total} requests in {elapsed:.1f} s; "
          f"statuses {dict(sorted(statuses.items()))}; schema-valid but refused by a rule (422): {dict(rules)}")
    assert not failures, "\n\n".join(failures)
    assert fuzzed == {f"{method.upper()} {path}" for path, methods in schema.raw_schema["paths"].items()
                      for method in methods}


def test_what_the_fuzzing_found_stays_fixed(api, stack):
    """One request each (the same session's cloud): a version or a page size in other digits ("²".isdigit()
    is true, int() refuses it) and an age longer than a timedelta were server errors; a route that reads no
    fields took any bytes as its body; an unknown ops page was a 422 rather than a 404."""
    ops = {"X-Ops-Key": stack.ops_key()}
    changed = api.call("PUT", "/ops/config/vendors/nobody", json_body={}, headers={**ops, "If-Match": "\u00b2"})
    assert changed.status == 422 and changed.json()["details"] == {"field": "If-Match"}
    for query in ("limit=%C2%B2", "older_than=999999999999w"):
        listed = api.get(f"/ops/work-orders?{query}", headers=ops)
        assert listed.status == 422 and listed.json()["error"] == "invalid_input", (query, listed.body)
    for path in ("/ops/drill/setup", "/ops/overview/links"):
        refused = api.call("POST", path, raw=b"\x00", headers={**ops, "Content-Type": "application/json"})
        assert refused.status == 400 and refused.json()["error"] == "bad_request", (path, refused.body)
    page = api.get("/ops-pages/wo-1/minutes?token=x")
    assert page.status == 404 and page.json()["details"]["allowed"] == ["record", "report"]


def test_real_answers_match_their_documented_models(api, stack):
    """The fuzzing's links and ids are mostly refused, so its answers are mostly errors: here a tenant's request
    and the ops routes over it give real answers, each checked against its operation's documented schema."""
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))

    def check(method: str, template: str, resp: Any, status: int) -> Any:
        assert resp.status == status, (method, template, resp.status, resp.body)
        schema = document["paths"][template][method.lower()]["responses"][str(status)]["content"]["application/json"]
        body = resp.json()
        validator = Draft202012Validator({**schema["schema"], "components": document["components"]})
        errors = list(validator.iter_errors(body))
        assert not errors, (method, template, [e.message for e in errors[:3]])
        return body

    ops = {"X-Ops-Key": stack.ops_key()}
    check("GET", "/health", api.get("/health"), 200)
    made = check("POST", "/requests", api.post("/requests", {"unit_id": U("unit-maple-3b"), "name": "Ana Ruiz",
                                                            "description": "The hallway light is out"}), 202)
    wo_id, tenant_path = made["id"], made["status_url"].removeprefix("http://testserver")
    check("GET", "/requests/{id}", api.get(tenant_path), 200)
    for template, path in (("/ops/work-orders", "/ops/work-orders?limit=5"),
                           ("/ops/work-orders/{id}", f"/ops/work-orders/{wo_id}"),
                           ("/ops/work-orders/{id}/record", f"/ops/work-orders/{wo_id}/record"),
                           ("/ops/kpis", "/ops/kpis?group_by=trade"), ("/ops/kpis", f"/ops/kpis?work_orders={wo_id}"),
                           ("/ops/vendors/{id}/scorecard", f"/ops/vendors/{V('ven-aqua')}/scorecard"),
                           ("/ops/config", "/ops/config"), ("/ops/config/{kind}", "/ops/config/vendors"),
                           ("/ops/config/{kind}/{id}", f"/ops/config/vendors/{V('ven-aqua')}"),
                           ("/ops/config/{kind}/{id}/history", f"/ops/config/vendors/{V('ven-aqua')}/history"),
                           ("/ops/dlq", "/ops/dlq"), ("/ops/audit", "/ops/audit"),
                           ("/ops/triage/corrections", "/ops/triage/corrections"),
                           ("/ops/invoice-exceptions", "/ops/invoice-exceptions"),
                           ("/ops/drill/messages", "/ops/drill/messages"), ("/openapi.json", "/openapi.json")):
        check("GET", template, api.get(path, headers=ops), 200)
    link = check("POST", "/ops/work-orders/{id}/links",
                 api.post(f"/ops/work-orders/{wo_id}/links", {"page": "record"}, headers=ops), 201)
    check("GET", "/ops-pages/{id}/{page}", api.get(link["path"]), 200)
    check("POST", "/ops/overview/links", api.post("/ops/overview/links", {}, headers=ops), 201)
    check("POST", "/ops/properties/{id}/owner-report-link",
          api.post(f"/ops/properties/{P('prop-maple')}/owner-report-link", {}, headers=ops), 201)
    check("POST", "/ops/work-orders/{id}/steer",
          api.post(f"/ops/work-orders/{wo_id}/steer", {"action": "note", "text": "Checked."}, headers=ops), 200)
    check("POST", "/links/renew", api.post("/links/renew", {"token": "not-a-link"}), 202)
    check("POST", "/ops/work-orders/{id}/cancel",
          api.post(f"/ops/work-orders/{wo_id}/cancel", {"reason": "A test request"}, headers=ops), 200)
