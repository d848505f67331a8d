"""PMS consumer: queued webhook events are applied (entity fetched from the PMS API); the scheduled
reconciliation ({"action": "reconcile"} from EventBridge Scheduler) pulls the whole portfolio; the daily
insurance check ({"action": "check_insurance"}) announces vendors whose synced insurance expires soon."""


from shared.batch import SQSRecord, sqs_batch
from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.pms.models import PmsEvent
from shared.services.container import services
from shared.services.pms_sync import apply_event, reconcile


def _apply(record: SQSRecord) -> None:
    event = PmsEvent.model_validate_json(record.body)
    bind(correlation_id=record.message_id)
    svc = services()
    outcome = apply_event(svc, svc.pms(), event)
    logger.info("pms event applied", extra={"event_name": event.name, "pms_id": event.pms_id, "outcome": outcome})


@lambda_entry(requires=("pms_api_secret_arn",))
def lambda_handler(event, context):
    if isinstance(event, dict) and event.get("action") == "reconcile":
        svc = services()
        return {"reconciled": reconcile(svc, svc.pms())}
    if isinstance(event, dict) and event.get("action") == "check_insurance":
        from shared.services.compliance import check_insurance  # cold start: only the daily check loads it

        return {"insurance_expiring": check_insurance(services())}
    return sqs_batch(event, _apply)
