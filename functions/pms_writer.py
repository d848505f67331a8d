"""PMS writer: lifecycle events (EventBridge -> SQS) bring the work order's state to the PMS.
A PMS outage fails the record; SQS retries it later and the DLQ keeps it - the tenant's flow never waits."""

import json

from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.pms_writer import sync_out


def _sync(record: SQSRecord) -> None:
    event = json.loads(record.body)
    wo_id = event["detail"]["work_order_id"]
    bind(work_order_id=wo_id, correlation_id=event.get("id"))
    svc = services()
    outcome = sync_out(svc, svc.pms(), wo_id)
    logger.info("pms sync", extra={"event": event.get("detail-type"), "outcome": outcome})


@lambda_entry(requires=("pms_api_secret_arn",))
def lambda_handler(event, context):
    return sqs_batch(event, _sync)
