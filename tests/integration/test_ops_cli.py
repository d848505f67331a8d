"""`opslayer ops` against the local stack over real HTTP (the X-Ops-Key path; SigV4 is unit-tested): the
list pages through a cursor with a small page size, and `ops open` gives a link that opens once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared.domain import links
from tests.integration.conftest import P, U

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> str:
    """The CLI as ops run it: its own process (the in-process handlers log to this one's stdout)."""
    done = subprocess.run([sys.executable, "-m", "infra.cli", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def harbor_orders(api) -> list[str]:
    made = []
    for n in range(5):
        resp = api.post("/requests", {"unit_id": U("unit-harbor-101"), "name": "Lena Park",
                                      "description": f"Window latch {n} is broken"})
        assert resp.status == 202, resp.body
        made.append(resp.json()["id"])
    return made


def test_list_pages_through_the_cursor(served, harbor_orders):
    first = json.loads(cli("ops", "list", "--url", served, "--property", P("prop-harbor"), "--limit", "2",
                           "--json"))
    assert first["count"] == 2 and first["next_cursor"]
    listed = json.loads(cli("ops", "list", "--url", served, "--property", P("prop-harbor"), "--limit", "2",
                            "--all", "--json"))
    ids = [w["id"] for w in listed["work_orders"]]
    assert set(harbor_orders) <= set(ids) and len(ids) == len(set(ids)) and listed["next_cursor"] is None
    assert ids[:2] == [w["id"] for w in first["work_orders"]]
    table = cli("ops", "list", "--url", served, "--property", P("prop-harbor"), "--limit", "2")
    assert table.startswith("ID") and "more: --all, or --cursor" in table
    tampered = first["next_cursor"][:-3] + "abc"
    resp = requests.get(f"{served}/ops/work-orders", params={"property_id": P("prop-harbor"), "cursor": tampered},
                        headers={"X-Ops-Key": json.loads(requests.get(f"{served}/_local/demo", timeout=30).text)
                                 ["ops_key"]}, timeout=30)
    assert resp.status_code == 400 and resp.json()["details"] == {"parameter": "cursor"}


def test_ops_open_gives_a_link_that_opens_once(served, harbor_orders, mint):
    wo_id = harbor_orders[0]
    out = cli("ops", "open", wo_id, "--url", served, "--print-only")
    url = out.splitlines()[0]
    assert url.startswith(f"{served}/ops-pages/{wo_id}/report?token=olk1_")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"] and wo_id in page.text
    assert requests.get(url, timeout=30).status_code == 403  # spent
    token = parse_qs(urlsplit(url).query)["token"][0]
    assert requests.get(f"{served}/ops-pages/{harbor_orders[1]}/report?token={token}", timeout=30).status_code == 403

    # The expiry through the deployed route: a link minted eleven minutes ago (the API's clock is the wall clock).
    late = mint(wo_id, "ops", "record", links.OPS_PAGE_TTL, now=time.time() - links.OPS_PAGE_TTL - 60,
                actions=("record",))
    refused = requests.get(f"{served}/ops-pages/{wo_id}/record?token={late}", timeout=30,
                           headers={"Accept": "application/json"})
    assert refused.status_code == 403 and "expired" in refused.json()["message"]
