"""The API's own description: the OpenAPI 3.1 document (`GET /openapi.json`) and a page for people
(`GET /docs`), both built from the routes by functions/api/openapi.py, once per container. Only these two
routes import the generator (cold start)."""

from __future__ import annotations

from functools import cache

from chalice import Blueprint

from ..plumbing import HTML, app, documented, endpoint, html_response, json_response

bp = Blueprint(__name__)


@cache
def _document() -> dict:
    from .. import openapi

    return openapi.document(app)


@bp.route("/openapi.json", methods=["GET"])
@documented(responses={200: "This document (OpenAPI 3.1)."}, response="answers.OpenApiDocument")
@endpoint()
def openapi_document():
    """The OpenAPI 3.1 document of every route, generated from the routes and their request models."""
    return json_response(200, _document(), headers={"Cache-Control": "public, max-age=300"})


@bp.route("/docs", methods=["GET"])
@documented(responses={200: "The API reference as a page."}, produces=(HTML,))
@endpoint()
def api_docs_page():
    """The API reference for people: every operation, its parameters, body and answers (no script, no CDN)."""
    from .. import pages

    response = html_response(200, pages.api_reference(_document()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
