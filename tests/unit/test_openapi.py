"""The OpenAPI 3.1 document is generated from the routes: every route is in it and nothing else, each
operation declares its answers, write routes reference their request models, and docs/openapi.json is what
the generator produces (`make openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.lambda_modules import every_setting, fresh_import

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api():
    with fresh_import("functions.api.app", every_setting()) as module:
        from functions.api import openapi

        yield module.app, openapi.document(module.app), openapi


def _routes(app) -> set[tuple[str, str]]:
    return {(path, method) for path, entries in app.routes.items() for method in entries}


def test_every_route_and_nothing_else_is_in_the_document(api):
    app, document, _ = api
    documented = {(path, method.upper()) for path, methods in document["paths"].items() for method in methods}
    assert documented == _routes(app)
    assert ("/openapi.json", "GET") in documented and ("/docs", "GET") in documented


def test_the_document_is_valid_openapi_3_1(api):
    _, document, _ = api
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_declares_its_answers_and_a_unique_id(api):
    _, document, _ = api
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    for op in operations:
        assert op["responses"] and any(status.startswith(("2", "3")) for status in op["responses"]), op["operationId"]
    assert len({op["operationId"] for op in operations}) == len(operations)


def test_write_routes_reference_their_request_models(api):
    app, document, _ = api
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            model = entry.view_function.api_doc.request
            if method not in ("POST", "PUT") or not isinstance(model, type):
                continue
            body = document["paths"][path][method.lower()]["requestBody"]["content"]
            assert body["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}, path
            assert model.__name__ in document["components"]["schemas"]
    assert document["paths"]["/requests"]["post"]["requestBody"]["required"] is True


def test_common_errors_and_credentials_follow_the_kind_of_route(api):
    _, document, _ = api
    ops = document["paths"]["/ops/work-orders/{id}/cancel"]["post"]
    assert ops["security"] == [{"sigv4": []}, {"opsKey": []}]
    assert {"401", "404", "422"} <= set(ops["responses"])
    tenant = document["paths"]["/requests/{id}"]["get"]
    assert tenant["security"] == [{"linkToken": []}] and {"403", "429"} <= set(tenant["responses"])
    assert set(tenant["responses"]["200"]["content"]) == {"application/json", "text/html"}
    error = tenant["responses"]["403"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ApiError"}
    assert set(document["components"]["schemas"]["ApiError"]["properties"]) == {"error", "message", "details"}


def test_a_route_without_a_declaration_is_refused():
    from chalice import Chalice

    from functions.api import openapi

    bare = Chalice(app_name="bare")

    @bare.route("/x")
    def x():
        return {}

    with pytest.raises(openapi.Undocumented, match="GET /x"):
        openapi.document(bare)


def test_the_committed_document_is_what_the_generator_produces(api):
    app, _, openapi = api
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi.rendered(app), "docs/openapi.json is stale: run `make openapi`"
    assert json.loads(committed)["info"]["title"] == "Opslayer API"


def test_the_docs_page_lists_every_operation_without_scripts(api):
    _, document, _ = api
    from functions.api import pages

    page = pages.api_reference(document)
    for path, methods in document["paths"].items():
        for op in methods.values():
            assert f'id="op-{op["operationId"]}"' in page, path
    assert "<script" not in page and "http://" not in page.replace("https://", "")


def test_every_json_answer_is_described_by_a_model(api):
    """A 2xx JSON answer names its model (functions/api/answers.py or a read model), never a bare object;
    the models are components, answers in their serialization form."""
    _, document, _ = api
    schemas = document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                content = answer.get("content", {}).get("application/json")
                if status.startswith("2") and content is not None:
                    ref = content["schema"].get("$ref", "")
                    assert ref.startswith("#/components/schemas/"), (method, path, status, content)
                    assert ref.rsplit("/", 1)[1] in schemas
    assert schemas["WorkOrderState"]["required"] == ["id", "status"]
    assert document["paths"]["/requests/{id}"]["get"]["responses"]["200"]["content"]["application/json"] == {
        "schema": {"$ref": "#/components/schemas/TenantStatus"}}
