"""Intake consumer: every new work order (any channel) starts its lifecycle execution.

SQS (fed by the WorkOrderReceived rule) with partial batch failures; the execution is named after
the work-order id, so a duplicate message is a no-op.
"""

import json

from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.workorders import start_lifecycle


def _start(record: SQSRecord) -> None:
    event = json.loads(record.body)
    wo_id = event["detail"]["work_order_id"]
    bind(work_order_id=wo_id, correlation_id=event.get("id"))
    arn = start_lifecycle(services(), wo_id)
    logger.info("lifecycle started", extra={"execution": arn.rsplit(":", 1)[-1]})


@lambda_entry(requires=("state_machine_arn",))
def lambda_handler(event, context):
    return sqs_batch(event, _start)
