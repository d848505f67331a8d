"""The fire drill's ops routes (IAM-authorized in the template; an X-Ops-Key in key mode): its records,
and the messages its sink kept instead of sending them (shared/services/drill.py)."""

from __future__ import annotations

from chalice import Blueprint

from shared.services import drill
from shared.services.container import services

from ..plumbing import ALL_TYPES, documented, endpoint, json_response, lazy_module, query_param, read_body, require_ops

# Imported on first use, not with the handler (cold start): each route's models and use cases.
schemas = lazy_module("shared.schemas")

bp = Blueprint(__name__)


@bp.route("/ops/drill/setup", methods=["POST"], content_types=ALL_TYPES)
@documented(responses={200: "The drill's property, units and vendors."}, request="schemas.Empty",
            response="answers.DrillSetup")
@endpoint()
def drill_setup():
    """Create the drill's property, units and vendors where missing (idempotent) and describe them."""
    require_ops()
    read_body(schemas.Empty)
    return json_response(200, drill.setup(services()))


@bp.route("/ops/drill/messages", methods=["GET"])
@documented(responses={200: "`{messages, next}`."}, query={"since": "A time, or the last message's id."},
            response="answers.DrillMessages")
@endpoint()
def drill_messages():
    """The drill sink's messages after `since` (a time or the last message's id), oldest first."""
    require_ops()
    found = drill.messages(services(), query_param("since") or "")
    return json_response(200, {"messages": found, "next": found[-1]["id"] if found else query_param("since")})
