"""KPI rollups: lifecycle events (EventBridge -> SQS) bring a work order's contribution to the day rollups
up to date (shared/services/kpis.py). Recomputed from the timeline, so duplicates and replays change nothing;
a failed record is retried by SQS and kept by the DLQ."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.kpis import apply_event

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _apply(record: SQSRecord) -> None:
    event = json.loads(record.body)
    bind(work_order_id=(event.get("detail") or {}).get("work_order_id"), correlation_id=event.get("id"))
    outcome = apply_event(services(), event)
    logger.info("kpi rollup", extra={"event": event.get("detail-type"), "outcome": outcome})


@lambda_entry()
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=_apply, processor=processor, context=context)
