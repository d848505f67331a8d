"""schemathesis against the local API over real HTTP: every operation of the served /openapi.json, bodies
included, valid and invalid data, a few examples each. Every answer must not be a server error and must match
the document (status code, content type, response schema, headers) - schemathesis' default checks.

Derandomized (a fixed seed, no example database), no shrinking: the same requests every run, in seconds.
The ops key goes with every request (OpsAuthMode=key locally) so the /ops routes are exercised beyond 401;
link routes answer 403 to the generated tokens, as documented."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

pytestmark = pytest.mark.integration

SEED = 20261203
EXAMPLES = 6  # per operation and generation mode
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# What schemathesis accepts as the answer to schema-valid data: its default, and 422 - the API's answer to a
# well-formed request that breaks a rule a JSON Schema cannot state (from after to, an end before its start, a
# unit or KPI id that does not exist, a status and a stage that disagree). Each 422 names the rule in `details`.
ACCEPTED = ["2XX", "3XX", "401", "403", "404", "409", "422", "429"]


def _negatable(operation: Any) -> bool:
    """Invalid data needs somewhere to go: a body, a query parameter or a header (a path segment is any string)."""
    definition = operation.definition.raw
    return "requestBody" in definition or any(p["in"] != "path" for p in definition.get("parameters", []))


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, session: requests.Session,
          statuses: Counter) -> tuple[int, list[str]]:
    """Run one operation's examples in one mode; (requests sent, failures as text)."""
    sent = 0

    @seed(SEED)
    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        response = case.call_and_validate(base_url=base_url, session=session)
        statuses[response.status_code] += 1

    try:
        run()
    except Unsatisfiable:  # nothing of this operation can be made invalid
        return sent, []
    except (Exception, BaseExceptionGroup) as exc:  # a check's FailureGroup: report it, go on with the others
        return sent, [f"{operation.label} [{mode.value}]: {exc}"]
    return sent, []


def test_every_operation_answers_as_documented(served, stack):
    started = time.monotonic()
    # The ops key as the document's opsKey scheme: schemathesis also sends each /ops route without it (401).
    config = schemathesis.Config.from_dict({
        "auth": {"openapi": {"opsKey": {"api_key": stack.ops_key()}}},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        # A cursor is opaque and signed: only the API makes one, so a generated one is refused (400, documented).
        "operations": [{"include-path": "/ops/work-orders", "include-method": "GET",
                        "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}}}]})
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json", config=config)
    statuses: Counter = Counter()
    failures: list[str] = []
    total = 0
    fuzzed: set[str] = set()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            fuzzed.add(operation.label)
            for mode in MODES if _negatable(operation) else MODES[:1]:
                sent, failed = _fuzz(operation, mode, served, session, statuses)
                total += sent
                failures += failed
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {len(fuzzed)} operations x {len(MODES)} modes x <= {EXAMPLES} examples = {total} requests "
          f"in {elapsed:.1f} s; statuses {dict(sorted(statuses.items()))}")
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
