"""The deployed API describes itself: GET /openapi.json through the template's API Gateway is the committed
document (every Api event of the template is an operation of it), and GET /docs is its reference page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.localcloud.template import load_template

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_api_serves_its_document_and_its_reference_page(api):
    served = api.get("/openapi.json")
    assert served.status == 200, served.body
    document = served.json()
    assert document == json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    events = load_template(ROOT / "template.yaml")["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Path"], e["Properties"]["Method"].lower()) for e in events if e["Type"] == "Api"}
    assert {(path, method) for path, ops in document["paths"].items() for method in ops} == routes

    page = api.get("/docs", headers={"Accept": "text/html"})
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "/ops/work-orders/{id}/steer" in text and "<script" not in text
