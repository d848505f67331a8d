"""Preventive maintenance: the daily schedule ({"action": "generate"}) creates the due work orders; a
verified preventive work order (WorkOrderVerified naming its asset, from the bus) starts the asset's
next cycle."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.preventive import generate, on_verified


@lambda_entry()
def lambda_handler(event, context):
    svc = services()
    if event.get("detail-type") == "WorkOrderVerified":
        detail = event["detail"]
        bind(work_order_id=detail["work_order_id"])
        outcome = on_verified(svc, detail)
        logger.info("preventive asset serviced", extra={"outcome": outcome, "asset_id": detail["asset_id"]})
        return {"asset": outcome}
    created = generate(svc)
    logger.info("preventive work orders", extra={"count": len(created)})
    return {"work_orders": created}
