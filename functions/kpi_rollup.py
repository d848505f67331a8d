"""KPI rollups: lifecycle events (EventBridge -> SQS) bring a work order's contribution to the day rollups
up to date (shared/services/kpis.py). Recomputed from the timeline, so duplicates and replays change nothing;
a failed record is retried by SQS and kept by the DLQ."""

import json

from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.services.container import services
from shared.services.kpis import apply_event


def _apply(record: SQSRecord) -> None:
    event = json.loads(record.body)
    bind(work_order_id=(event.get("detail") or {}).get("work_order_id"), correlation_id=event.get("id"))
    outcome = apply_event(services(), event)
    logger.info("kpi rollup", extra={"event": event.get("detail-type"), "outcome": outcome})


@lambda_entry()
def lambda_handler(event, context):
    return sqs_batch(event, _apply)
