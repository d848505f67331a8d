"""Notification consumer: lifecycle events (EventBridge -> SQS) become SMS and email; so does a vendor's
insurance about to expire (a notice about no work order). An emergency starts its on-call chain here."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.entry import lambda_entry
from shared.observability import bind
from shared.services.container import services
from shared.services.notifications import notify

# A batch where every record failed reports them all (like a partial failure) instead of raising.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _notify(record: SQSRecord) -> None:
    event = json.loads(record.body)
    detail = event["detail"]
    if event["detail-type"] == "VendorInsuranceExpiring":
        from shared.services.compliance import warn_insurance_expiring  # cold start: notices are rare

        bind(correlation_id=event.get("id"))
        warn_insurance_expiring(services(), detail)
        return
    bind(work_order_id=detail.get("work_order_id"), correlation_id=event.get("id"))
    notify(services(), event["detail-type"], detail)


# An emergency's page schedules its ack-by check (a one-time schedule invoking the visit-timers function).
@lambda_entry(requires=("link_secret_arn", "public_base_url", "notification_queue_url", "ops_alert_emails",
                        "visit_schedule_group", "visit_timers_function_arn", "visit_scheduler_role_arn",
                        "scheduler_dlq_arn"))
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=_notify, processor=processor, context=context)
