"""The scheduled sweeps of the status index (EventBridge Scheduler):
  {"action": "sweep"}   hourly: open work orders past their stage's timer plus a grace get a timeline note and
                        the StuckWorkOrders metric (its alarm tells ops);
  {"action": "redact"}  daily: closed and cancelled work orders past PERSONAL_DATA_RETENTION_DAYS lose their
                        personal fields (shared/services/privacy.py)."""

from shared.entry import lambda_entry
from shared.observability import logger
from shared.services.container import services
from shared.services.stuck import sweep_stuck


@lambda_entry()
def lambda_handler(event, context):
    if isinstance(event, dict) and event.get("action") == "redact":
        from shared.services.privacy import sweep_personal_data  # the daily run only

        redacted = sweep_personal_data(services())
        logger.info("personal data sweep", extra={"redacted": len(redacted)})
        return {"redacted": redacted}
    stuck = sweep_stuck(services())
    logger.info("stuck sweep", extra={"stuck": len(stuck)})
    return {"stuck": stuck}
