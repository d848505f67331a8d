"""Intake consumer: every new work order (any channel) starts its lifecycle execution.

SQS (fed by the WorkOrderReceived rule) with partial batch failures; the execution is named after
the work-order id, so a duplicate message is a no-op.
"""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.workorders import start_lifecycle

# A batch where every record failed reports them all (like a partial failure) instead of raising.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _start(record: SQSRecord) -> None:
    event = json.loads(record.body)
    wo_id = event["detail"]["work_order_id"]
    bind(work_order_id=wo_id, correlation_id=event.get("id"))
    arn = start_lifecycle(services(), wo_id)
    logger.info("lifecycle started", extra={"execution": arn.rsplit(":", 1)[-1]})


@lambda_entry(requires=("state_machine_arn",))
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=_start, processor=processor, context=context)
