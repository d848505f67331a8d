"""Ops setup routes (/ops/config: ops auth as every /ops route): read and change vendors, properties, quiet
hours, contacts, assets, sensors and NTE overrides, each change validated, versioned and optimistic (If-Match:
the version read; a stale write is a 409). The use cases are shared/services/config.py."""

from __future__ import annotations

from chalice import Blueprint

from shared import http
from shared.domain.errors import InvalidInput, PreconditionRequired
from shared.services.container import services

from ..plumbing import JSON, documented, endpoint, json_response, lazy_module, require_ops

# Imported on first use, not with the handler (cold start): each route's models and use cases.
config = lazy_module("shared.services.config")

bp = Blueprint(__name__)


def _expected_version() -> int:
    """The If-Match header: the version the change was made against ("0" for a record never changed)."""
    raw = (bp.current_request.headers or {}).get("if-match")
    if raw is None:
        raise PreconditionRequired("Send If-Match with the version you read (0 for one never changed).",
                                   {"field": "If-Match"})
    value = raw.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):  # "²".isdigit() too, and int() refuses it
        raise InvalidInput("If-Match is a version number.", {"field": "If-Match"})
    return int(value)


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


@bp.route("/ops/config", methods=["GET"])
@documented(responses={200: "The whole setup, by kind."}, response="answers.SetupExport")
@endpoint()
def config_export():
    """The whole setup, every kind in name order, each record in id order (`opslayer config export`)."""
    require_ops()
    whole = config.export(services())
    return json_response(200, {kind: [i.model_dump() for i in found] for kind, found in whole.items()})


@bp.route("/ops/config/{kind}", methods=["GET"])
@documented(responses={200: "`{kind, items, count}`."}, response="answers.SetupItems")
@endpoint()
def config_list(kind):
    require_ops()
    found = config.items(services(), kind)
    return json_response(200, {"kind": kind, "items": [i.model_dump() for i in found], "count": len(found)})


@bp.route("/ops/config/{kind}/{id}", methods=["GET"])
@documented(responses={200: "The record (ETag: its version)."}, response="config.SetupItem")
@endpoint()
def config_get(kind, id):
    require_ops()
    item = config.get(services(), kind, id)
    return json_response(200, item.model_dump(), headers=_etag(item.version))


@bp.route("/ops/config/{kind}/{id}", methods=["PUT"], content_types=["application/json"])
@documented(responses={200: "The record as changed (ETag: its new version).",
            409: "Changed since the version in If-Match.", 422: "The value is not valid.", 428: "No If-Match."},
            request={"type": "object", "description": "The record's value as GET shows it."}, body_types=(JSON,),
            headers={"If-Match": "The version read (0 for a record never changed)."}, required=("If-Match",),
            params={"If-Match": {"pattern": r'^\s*(W/)?"?[0-9]+"?\s*$'}}, response="config.SetupItem")
@endpoint()
def config_put(kind, id):
    """Replace the record with the JSON body (the value as GET shows it), if If-Match is still its version."""
    actor = require_ops()
    expected = _expected_version()
    request = bp.current_request
    value = http.parse_body(request.raw_body or b"", (request.headers or {}).get("content-type"))
    item = config.change(services(), kind, id, value, expected, by=actor)
    return json_response(200, item.model_dump(), headers=_etag(item.version))


@bp.route("/ops/config/{kind}/{id}/history", methods=["GET"])
@documented(responses={200: "`{kind, id, versions}`."}, response="answers.SetupHistory")
@endpoint()
def config_history(kind, id):
    """Every version, oldest first: the value, who changed it and when."""
    require_ops()
    versions = config.history(services(), kind, id)
    return json_response(200, {"kind": kind, "id": id, "versions": [v.model_dump() for v in versions]})
