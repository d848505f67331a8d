"""Lifecycle steps of dispatch: rank vendors, offer (task-token wait), offer expiry, escalation."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.workorders import escalate, offer, offer_expired, rank


@lambda_entry()
def lambda_handler(event, context):
    wo_id = event["work_order_id"]
    bind(work_order_id=wo_id)
    svc = services()
    action = event["action"]
    logger.info("dispatch step", extra={"action": action})
    if action == "rank":
        return rank(svc, wo_id, reopen=bool(event.get("reopen")))
    if action == "offer":
        offer(svc, wo_id, int(event["index"]), event["task_token"], int(event["timeout_seconds"]), event.get("triage"),
              count=int(event["count"]) if "count" in event else None)
        return {"parked": True}
    if action == "offer_expired":
        return {"outcome": offer_expired(svc, wo_id, int(event["index"]))}
    if action == "escalate":
        escalate(svc, wo_id, event["reason"], "No vendor accepted the job; ops alerted")
        return {"escalated": True}
    raise ValueError(f"unknown dispatch action {action!r}")
