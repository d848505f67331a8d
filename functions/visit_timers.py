"""One-time timers: VisitScheduled events (EventBridge -> SQS) create the visit's schedules (reminders,
arrive deadline), SafetyQuestionAsked the safety question's no-answer timer; EventBridge Scheduler invokes
this function again when one fires. An emergency page's ack-by check (scheduled by the notification function
when it pages) fires here too."""

import json

from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services import safety
from shared.services.container import services
from shared.services.visits import plan_timers, timer_fired


def _plan(record: SQSRecord) -> None:
    event = json.loads(record.body)
    detail = event["detail"]
    bind(work_order_id=detail["work_order_id"])
    if event.get("detail-type") == "SafetyQuestionAsked":
        logger.info("safety timer planned", extra={"planned": safety.plan_timer(services(), detail["work_order_id"])})
        return
    made = plan_timers(services(), detail["work_order_id"], int(detail["window_version"]))
    logger.info("visit timers planned", extra={"kinds": made})


@lambda_entry(requires=("visit_schedule_group", "visit_timers_function_arn", "visit_scheduler_role_arn",
                        "scheduler_dlq_arn"))
def lambda_handler(event, context):
    if "Records" in event:
        return sqs_batch(event, _plan)
    if event.get("action") == "safety_unanswered":
        bind(work_order_id=event["work_order_id"])
        outcome = safety.unanswered(services(), event["work_order_id"])
        logger.info("safety timer fired", extra={"outcome": outcome})
        return {"outcome": outcome}
    if event.get("action") == "oncall_check":  # an emergency page's ack-by time (shared/services/paging.py)
        from shared.services.paging import check  # cold start: the on-call chain only when its timer fires

        bind(work_order_id=event["work_order_id"])
        outcome = check(services(), event["work_order_id"], int(event["level"]))
        logger.info("on-call check fired", extra={"level": event["level"], "outcome": outcome})
        return {"outcome": outcome}
    if event.get("action") != "fire":
        raise ValueError(f"unknown visit timer event {event.get('action')!r}")
    bind(work_order_id=event["work_order_id"])
    outcome = timer_fired(services(), event["work_order_id"], event["kind"], int(event["window_version"]))
    logger.info("visit timer fired", extra={"kind": event["kind"], "outcome": outcome})
    return {"outcome": outcome}
