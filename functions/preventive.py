"""Preventive maintenance: fired by EventBridge Scheduler ({"action": "generate"})."""

from shared.entry import lambda_entry
from shared.observability import logger
from shared.services.container import services
from shared.services.preventive import generate


@lambda_entry()
def lambda_handler(event, context):
    created = generate(services())
    logger.info("preventive work orders", extra={"count": len(created)})
    return {"work_orders": created}
