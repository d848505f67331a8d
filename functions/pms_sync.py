"""PMS consumer: queued webhook events are applied (entity fetched from the PMS API); the scheduled
reconciliation ({"action": "reconcile"} from EventBridge Scheduler) pulls the whole portfolio; the daily
insurance check ({"action": "check_insurance"}) announces vendors whose synced insurance expires soon.

A reconciliation reads until RECONCILE_MARGIN_MS are left of the invocation, then invokes this function again,
asynchronously, with its cursor ({"action": "reconcile", "cursor": {...}}; shared.services.pms_sync
.reconcile_invocation, through the container's continuations port), so a portfolio of any size syncs in steps
within the timeout. A failed step is retried by Lambda from the same cursor (upserts are idempotent);
after its retries it lands in the async-invoke dead-letter queue (AsyncInvokeDLQAlarm); the next scheduled run
starts over."""

from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.pms.models import PmsEvent
from shared.services.container import services
from shared.services.pms_sync import apply_event, reconcile_invocation

# Time kept back when a reconciliation step stops: one more PMS page (with the client's retries) and one upsert
# must fit, then the continuation's invoke.
RECONCILE_MARGIN_MS = 10_000


def _apply(record: SQSRecord) -> None:
    event = PmsEvent.model_validate_json(record.body)
    bind(correlation_id=record.message_id)
    svc = services()
    outcome = apply_event(svc, svc.pms(), event)
    logger.info("pms event applied", extra={"event_name": event.name, "pms_id": event.pms_id, "outcome": outcome})


@lambda_entry(requires=("pms_api_secret_arn",))
def lambda_handler(event, context):
    if isinstance(event, dict) and event.get("action") == "reconcile":
        return _reconcile(event, context)
    if isinstance(event, dict) and event.get("action") == "check_insurance":
        from shared.services.compliance import check_insurance  # cold start: only the daily check loads it

        return {"insurance_expiring": check_insurance(services())}
    return sqs_batch(event, _apply)


def _reconcile(event: dict, context) -> dict:
    svc = services()
    return reconcile_invocation(svc, svc.pms(), event, context.invoked_function_arn,
                                keep_going=lambda: context.get_remaining_time_in_millis() > RECONCILE_MARGIN_MS)
