"""Lifecycle steps that wait for people (schedule, completion, follow-up) and their timers."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.workorders import await_stage, escalate, followup_unanswered, stage_overdue


@lambda_entry()
def lambda_handler(event, context):
    wo_id = event["work_order_id"]
    bind(work_order_id=wo_id)
    svc = services()
    action = event["action"]
    logger.info("workflow step", extra={"action": action, "stage": event.get("stage")})
    if action == "await":
        await_stage(svc, wo_id, event["stage"], event["task_token"])
        return {"parked": True}
    if action == "overdue":
        stage_overdue(svc, wo_id, event["stage"])
        return {"escalated": True}
    if action == "followup_unanswered":
        followup_unanswered(svc, wo_id)
        return {"verified": True}
    if action == "fail":
        error = event.get("error") or {}
        logger.error("lifecycle failed", extra={"error": error.get("Error"), "cause": str(error.get("Cause"))[:500]})
        escalate(svc, wo_id, "automation_error", f"Automation error ({error.get('Error', 'unknown')})",
                 automation_failed=True)
        return {"escalated": True}
    raise ValueError(f"unknown workflow action {action!r}")
