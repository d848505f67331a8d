"""Preventive maintenance: fired by EventBridge Scheduler ({"action": "generate"})."""

from shared.observability import logger, metrics, tracer
from shared.services.container import services
from shared.services.preventive import generate


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    created = generate(services())
    logger.info("preventive work orders", extra={"count": len(created)})
    return {"work_orders": created}
