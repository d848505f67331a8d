"""Lifecycle step: trade and priority from the versioned triage rules."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.workorders import triage


@lambda_entry()
def lambda_handler(event, context):
    bind(work_order_id=event["work_order_id"])
    result = triage(services(), event["work_order_id"])
    logger.info("triaged", extra={"trade": result["trade"], "priority": result["priority"]})
    return result
