"""Notification consumer: lifecycle events (EventBridge -> SQS) become SMS and email; so does a vendor's
insurance about to expire (a notice about no work order). An emergency starts its on-call chain here."""

import json

from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind
from shared.services.container import services
from shared.services.notifications import notify


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
    return sqs_batch(event, _notify)
