"""The stuck sweep (EventBridge Scheduler, {"action": "sweep"}): open work orders past their stage's timer
plus a grace get a timeline note and the StuckWorkOrders metric (its alarm tells ops)."""

from shared.entry import lambda_entry
from shared.observability import logger
from shared.services.container import services
from shared.services.stuck import sweep_stuck


@lambda_entry()
def lambda_handler(event, context):
    stuck = sweep_stuck(services())
    logger.info("stuck sweep", extra={"stuck": len(stuck)})
    return {"stuck": stuck}
