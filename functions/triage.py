"""Lifecycle step: trade and priority from the versioned triage rules."""

from shared.observability import bind, logger, metrics, tracer
from shared.services.container import services
from shared.services.workorders import triage


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    bind(work_order_id=event["work_order_id"])
    result = triage(services(), event["work_order_id"])
    logger.info("triaged", extra={"trade": result["trade"], "priority": result["priority"]})
    return result
