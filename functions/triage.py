"""Lifecycle step: trade and priority from the versioned triage rules, then - for a job dispatched from here -
its ranked vendors (a wait the step answers itself: shared/services/workorders.py `triage_step`)."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.workorders import triage_step


@lambda_entry()
def lambda_handler(event, context):
    bind(work_order_id=event["work_order_id"])
    result = triage_step(services(), event["work_order_id"], event["state"], event["task_token"])
    logger.info("triaged", extra={"trade": result["trade"], "priority": result["priority"],
                                  "candidates": result["dispatch"]["count"]})
    return result
